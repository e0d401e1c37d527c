package dev.remap.engine.store;

import java.io.IOException;

/** Opens the store a URI names: {@code file:///path} or {@code s3://bucket/prefix?...}. */
public final class ObjectStores {

  private ObjectStores() {}

  /** Opens the store, with S3 credentials from the AWS default chain (or the URI's profile). */
  public static ObjectStore open(String uri) throws IOException {
    return open(StoreUri.parse(uri), null);
  }

  /**
   * Opens the store. S3 stores use credentials when it is not null, else the AWS default chain
   * (or the URI's profile); file stores ignore it. Opening an S3 store does not contact the
   * server (an engine must be able to start during an outage): call {@link ObjectStore#check()}
   * to find out whether it is usable.
   *
   * @throws IllegalArgumentException if the URI is not valid, naming the part that is wrong
   */
  public static ObjectStore open(StoreUri uri, S3Credentials credentials) throws IOException {
    if (uri instanceof StoreUri.File file) {
      return FileObjectStore.open(file.root());
    }
    return S3ObjectStore.open((StoreUri.S3) uri, credentials);
  }
}
