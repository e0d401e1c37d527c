package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The lease's key=value codec: everything an owner publishes comes back as it was, and a lease an
 * older version wrote (without usage or space) still reads, with nothing known of either.
 */
class LeaseRecordTest {

  private static final LeaseRecord LEASE = new LeaseRecord("id-1", "node-a", "inst", 7, 3, 15000, 1234, false);
  private static final SpaceReport SPACE = new SpaceReport(3 << 20, 4 << 20, 1 << 20, null, 1_700_000_000_000L);

  private static LeaseRecord decode(String text) {
    return LeaseRecord.decode(text.getBytes(StandardCharsets.UTF_8), "the lease of volume v");
  }

  @Test
  void usageAndSpaceRoundTrip() {
    LeaseRecord full = LEASE.withUsage(new Usage(1, 2, 3, 4, 5, 6, 7, 8)).withSpace(SPACE);
    assertThat(LeaseRecord.decode(full.encode().array(), "x")).isEqualTo(full);
    String text = new String(full.encode().array(), StandardCharsets.UTF_8);
    assertThat(text).contains("space.liveBytes=3145728\n", "space.storedBytes=4194304\n",
        "space.cleanedBytes=1048576\n", "space.measuredAtMillis=1700000000000\n").doesNotContain("space.noSpace");

    LeaseRecord full2 = full.withSpace(SPACE.withNoSpace("the store is full: PUT a=b returned 507"));
    assertThat(LeaseRecord.decode(full2.encode().array(), "x")).isEqualTo(full2);
    assertThat(LeaseRecord.decode(full2.encode().array(), "x").space().noSpace())
        .isEqualTo("the store is full: PUT a=b returned 507");
  }

  @Test
  void renewingOrReleasingKeepsWhatWasPublished() {
    LeaseRecord full = LEASE.withSpace(SPACE);
    assertThat(full.renewed(99).space()).isEqualTo(SPACE);
    assertThat(full.asReleased(99).space()).isEqualTo(SPACE);
    assertThat(full.withUsage(Usage.ZERO).space()).isEqualTo(SPACE);
    assertThat(LEASE.space()).isEqualTo(SpaceReport.UNKNOWN);
  }

  @Test
  void aReasonOverSeveralLinesStaysOneLineAndTheLeaseReadable() {
    LeaseRecord full = LEASE.withSpace(SPACE.withNoSpace("disk full\nwhile writing /var/lib/remap/j-1\r\n"));
    LeaseRecord back = LeaseRecord.decode(full.encode().array(), "x");
    assertThat(back.space().noSpace()).isEqualTo("disk full while writing /var/lib/remap/j-1");
    assertThat(back).isEqualTo(full);
    assertThat(SPACE.withNoSpace("  ").noSpace()).as("blank is no reason").isNull();
  }

  @Test
  void aLeaseWrittenBeforeSpaceWasPublishedReadsAsUnknown() {
    String withUsageOnly = """
        format=remap-lease-1
        volumeId=id-1
        node=node-a
        instance=inst
        epoch=7
        serial=3
        ttlMillis=15000
        renewedAtMillis=1234
        released=false
        usage.reads=1
        usage.writes=2
        usage.readBytes=3
        usage.writtenBytes=4
        usage.ramHits=5
        usage.ramMisses=6
        usage.diskHits=7
        usage.diskMisses=8
        """;
    LeaseRecord old = decode(withUsageOnly);
    assertThat(old.space()).isEqualTo(SpaceReport.UNKNOWN);
    assertThat(old.space().measured()).isFalse();
    assertThat(old.usage()).isEqualTo(new Usage(1, 2, 3, 4, 5, 6, 7, 8));

    String oldest = withUsageOnly.substring(0, withUsageOnly.indexOf("usage."));
    assertThat(decode(oldest)).isEqualTo(LEASE);
  }

  @Test
  void aDamagedSpaceFieldIsNamed() {
    String text = new String(LEASE.withSpace(SPACE).encode().array(), StandardCharsets.UTF_8)
        .replace("space.liveBytes=3145728", "space.liveBytes=lots");
    assertThatThrownBy(() -> decode(text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the lease of volume v is damaged").hasMessageContaining("lots");
  }
}
