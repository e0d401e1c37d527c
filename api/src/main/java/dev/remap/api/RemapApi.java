package dev.remap.api;

/** The API group and version every Remap custom resource is served under. */
public final class RemapApi {
  public static final String GROUP = "remap.dev";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;

  private RemapApi() {}
}
