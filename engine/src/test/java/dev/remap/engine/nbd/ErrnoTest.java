package dev.remap.engine.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.NoSpaceException;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

/** Which NBD error a client gets for a failure of the layers below ({@link Transmission#errno}). */
class ErrnoTest {

  @Test
  void noSpaceAnywhereInTheCauseChainIsEnospc() {
    NoSpaceException full = new NoSpaceException("the journal in /j is full");
    assertThat(Transmission.errno(full)).isEqualTo(NbdProtocol.ENOSPC);
    assertThat(Transmission.errno(new UncheckedIOException(new IOException("upload failed", full))))
        .isEqualTo(NbdProtocol.ENOSPC);
  }

  @Test
  void otherFailuresKeepTheirErrno() {
    assertThat(Transmission.errno(new IOException("disk on fire"))).isEqualTo(NbdProtocol.EIO);
    assertThat(Transmission.errno(new IllegalArgumentException("bad range"))).isEqualTo(NbdProtocol.EINVAL);
  }
}
