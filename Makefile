# The README's two commands are `make demo` and `make test`; the rest are their parts.
SHELL := /bin/bash
MVN := mvn -B --no-transfer-progress -Dstyle.color=never

.PHONY: demo test build tools clean images

## Installs what the tests need (cached), builds, and runs every test.
test: tools
	$(MVN) install

## Builds the project and shows what it can already do on this machine.
demo: tools build
	@e2e/tools/demo.sh

build:
	$(MVN) -q -DskipTests install

tools:
	@e2e/tools/install.sh

## Container images as OCI archives in build/images/ (no Docker engine; see images/README.md).
images: build
	@images/build.sh

clean:
	$(MVN) -q clean

## Mutation testing of the engine's pure core (PIT): plants mutants in dev.remap.engine.core, runs
## the core's properties and unit tests against each, and fails below the score set in
## engine/pom.xml (profile "mutation"). Report: engine/target/pit-reports/index.html.
.PHONY: mutation
mutation:
	$(MVN) -Pmutation -pl engine -am test
