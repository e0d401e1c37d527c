package dev.remap.engine.volume;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;

/** A volume as its {@link Tenure} sees it ({@link Tenure.Host}). */
final class VolumeTenureHost implements Tenure.Host {

  private final Volume volume;

  VolumeTenureHost(Volume volume) {
    this.volume = volume;
  }

  @Override
  public VolumeMeta meta() {
    return volume.meta();
  }

  @Override
  public Ownership.Holder holder() {
    return volume;
  }

  @Override
  public ReentrantLock writeOrder() {
    return volume.writeOrder;
  }

  @Override
  public boolean closed() {
    return volume.closed;
  }

  @Override
  public void checkOpen() throws IOException {
    volume.checkOpen();
  }

  @Override
  public void reload(VolumeManager.Loaded loaded) throws IOException {
    volume.reload(loaded);
  }

  @Override
  public void drainAndCheckpoint(Duration timeout) throws IOException {
    volume.uploader.drain(timeout);
    volume.uploader.checkpointNow(timeout);
  }
}
