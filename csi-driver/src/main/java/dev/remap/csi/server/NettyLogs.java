package dev.remap.csi.server;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * gRPC asks netty for TCP keep-alive on every connection, which a Unix socket does not have, and
 * netty's bootstrap logs a warning for it each time: two lines per call of the health endpoint's
 * Probe (every few seconds) and per kubelet connection. Its bootstrap warnings are only about
 * such channel options, so they are kept to SEVERE.
 */
final class NettyLogs {

  /** Held here: java.util.logging keeps loggers weakly, and would forget the level. */
  private static final Logger BOOTSTRAP = Logger.getLogger("io.grpc.netty.shaded.io.netty.bootstrap");

  static {
    BOOTSTRAP.setLevel(Level.SEVERE);
  }

  private NettyLogs() {}

  static void quiet() {
    // The static initialiser has done it.
  }
}
