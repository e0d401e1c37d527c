package dev.remap.csi.node;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AttachMethodTest {

  private static final HostFacts EVERYTHING = new HostFacts(true, true, true, true, true, true, true, true, true);
  private static final HostFacts NOTHING = new HostFacts(false, false, false, false, false, false, false, false, false);

  @Test
  void prefersTheKernelNbdClientWhenTheModuleIsThere() {
    assertThat(AttachMethod.choose(EVERYTHING)).contains(AttachMethod.NBD_CLIENT);
  }

  @Test
  void aModuleThatCanBeLoadedIsAsGoodAsALoadedOne() {
    // No FUSE or nbdfuse at all: the kernel path needs neither.
    HostFacts loadable = new HostFacts(false, true, true, false, false, true, true, true, true);
    assertThat(AttachMethod.choose(loadable)).contains(AttachMethod.NBD_CLIENT);
  }

  @Test
  void fallsBackToNbdfuseAndLoopWithoutTheNbdModule() {
    HostFacts noNbd = new HostFacts(false, false, true, true, true, true, true, true, true);
    assertThat(AttachMethod.choose(noNbd)).contains(AttachMethod.NBDFUSE_LOOP);
    assertThat(AttachMethod.missingFor(AttachMethod.NBD_CLIENT, noNbd))
        .singleElement().asString().contains("nbd kernel module");
  }

  @Test
  void namesEveryMissingPartWhenNoMethodWorks() {
    assertThat(AttachMethod.choose(NOTHING)).isEmpty();
    assertThat(AttachMethod.missingFor(AttachMethod.NBDFUSE_LOOP, NOTHING))
        .hasSize(5)
        .anySatisfy(m -> assertThat(m).contains("/dev/fuse"))
        .anySatisfy(m -> assertThat(m).contains("nbdfuse"))
        .anySatisfy(m -> assertThat(m).contains("loop-control"))
        .anySatisfy(m -> assertThat(m).contains("losetup"))
        .anySatisfy(m -> assertThat(m).contains("perl"));
  }

  @Test
  void neitherPathNeedsNbdkitTheProxyIsThePluginsOwn() {
    HostFacts noNbdkit = new HostFacts(true, true, true, true, true, false, true, true, true);
    assertThat(AttachMethod.choose(noNbdkit)).contains(AttachMethod.NBD_CLIENT);
    assertThat(AttachMethod.missingFor(AttachMethod.NBDFUSE_LOOP, noNbdkit)).isEmpty();
  }

  @Test
  void theKernelPathNeedsTheLoopDeviceToo() {
    HostFacts noLoop = new HostFacts(true, true, true, true, true, true, false, true, true);
    assertThat(AttachMethod.choose(noLoop)).isEmpty();
    assertThat(AttachMethod.missingFor(AttachMethod.NBD_CLIENT, noLoop)).singleElement().asString()
        .contains("loop-control");
  }

  @Test
  void aMissingClientCommandRulesOutTheKernelPathEvenWithTheModule() {
    HostFacts noClient = new HostFacts(true, true, false, true, true, true, true, true, true);
    assertThat(AttachMethod.choose(noClient)).contains(AttachMethod.NBDFUSE_LOOP);
  }
}
