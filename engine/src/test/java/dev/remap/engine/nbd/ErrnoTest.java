package dev.remap.engine.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.block.DeviceException;
import dev.remap.engine.store.NoSpaceException;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

/** Which NBD error a client gets for a failure of the layers below ({@link Transmission#errno}). */
class ErrnoTest {

  @Test
  void noSpaceAnywhereInTheCauseChainIsEnospc() {
    NoSpaceException full = new NoSpaceException("the journal in /j is full");
    assertThat(NbdErrors.errno(full)).isEqualTo(NbdProtocol.ENOSPC);
    assertThat(NbdErrors.errno(new UncheckedIOException(new IOException("upload failed", full))))
        .isEqualTo(NbdProtocol.ENOSPC);
  }

  @Test
  void refusalsCarryTheirErrnoWhateverTheirMessage() {
    assertThat(NbdErrors.errno(DeviceException.readOnly("snapshot vm1@s1 is read-only")))
        .isEqualTo(NbdProtocol.EPERM);
    assertThat(NbdErrors.errno(new java.util.concurrent.CompletionException(
        DeviceException.closed("the request queue is closed")))).isEqualTo(NbdProtocol.ESHUTDOWN);
    assertThat(NbdErrors.errno(new DeviceException(DeviceException.Kind.CLOSED, "going away")))
        .as("the kind decides, not the words").isEqualTo(NbdProtocol.ESHUTDOWN);
    assertThat(NbdErrors.errno(new IOException("the store closed the connection")))
        .as("an I/O error that mentions 'closed' is still an I/O error").isEqualTo(NbdProtocol.EIO);
  }

  @Test
  void otherFailuresKeepTheirErrno() {
    assertThat(NbdErrors.errno(new IOException("disk on fire"))).isEqualTo(NbdProtocol.EIO);
    assertThat(NbdErrors.errno(new IllegalArgumentException("bad range"))).isEqualTo(NbdProtocol.EINVAL);
  }
}
