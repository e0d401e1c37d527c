#!/usr/bin/env bash
# Regenerates the committed CRD YAML (crds/ and the Helm chart's helm/remap/crds/) from the classes of api/.
# The build's CrdFilesTest fails whenever those files differ from what the generator makes;
# this runs that test in its rewrite mode. Extra arguments go to Maven (e.g. -o).
set -euo pipefail
cd "$(dirname "$0")/.."
exec mvn -B -q --no-transfer-progress -pl api -am test \
  -Dremap.updateCrds=true -Dtest=CrdFilesTest -Dsurefire.failIfNoSpecifiedTests=false "$@"
