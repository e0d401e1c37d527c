package dev.remap.csi.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;

/** The helper keeper's wire format: what is written is read back, and garbage is refused cleanly. */
class KeeperWireProperties {

  @Property
  void aRequestReadsBackAsWritten(@ForAll KeeperWire.Op op, @ForAll int timeout, @ForAll @StringLength(max = 200) String log,
      @ForAll @Size(min = 1, max = 40) List<@StringLength(max = 300) String> command) throws IOException {
    KeeperWire.Request request = new KeeperWire.Request(op, timeout, log, command);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    KeeperWire.write(new DataOutputStream(bytes), request);
    assertThat(KeeperWire.readRequest(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()))))
        .isEqualTo(request);
  }

  @Property
  void anAnswerReadsBackAsWrittenKeepingTheEndOfLongText(@ForAll boolean ok, @ForAll long value,
      @ForAll @StringLength(max = 40_000) String text) throws IOException {
    KeeperWire.Answer answer = new KeeperWire.Answer(ok, value, text);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    KeeperWire.write(new DataOutputStream(bytes), answer);
    KeeperWire.Answer read = KeeperWire.readAnswer(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
    assertThat(read).isEqualTo(answer);
    assertThat(text).endsWith(read.text());
    assertThat(read.text().length()).isLessThanOrEqualTo(KeeperWire.MAX_TEXT);
  }

  /** Whatever a connection sends, reading it either yields a request or fails with IOException. */
  @Property
  void garbageIsAnIoExceptionNeverAnotherFailure(@ForAll @Size(max = 300) byte[] garbage) {
    try {
      KeeperWire.readRequest(new DataInputStream(new ByteArrayInputStream(garbage)));
    } catch (IOException expected) {
      // refused: the keeper answers with the reason and goes on
    }
  }

  @Property
  void aStartWithoutACommandIsRefused(@ForAll @StringLength(max = 20) String log) {
    assertThatThrownBy(() -> new KeeperWire.Request(KeeperWire.Op.START, 0, log, List.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no command");
  }
}
