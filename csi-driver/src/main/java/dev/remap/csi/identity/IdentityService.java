package dev.remap.csi.identity;

import com.google.protobuf.BoolValue;
import dev.remap.csi.DriverConfig;
import dev.remap.csi.server.Rpc;
import dev.remap.csi.spec.Csi;
import dev.remap.csi.spec.IdentityGrpc;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.StoreException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;

/**
 * CSI Identity: who the plugin is, what it offers, and whether it is healthy. Probe checks the
 * store every time it is asked (a cheap request): while the store is unreachable the plugin is
 * unhealthy (UNAVAILABLE), so the CO and the plugin's /healthz (server/CsiProbe) see it.
 */
public final class IdentityService extends IdentityGrpc.IdentityImplBase {

  private final boolean controller;
  private final String version;
  private final ObjectStore store;

  public IdentityService(boolean controller, String version, ObjectStore store) {
    this.controller = controller;
    this.version = version;
    this.store = store;
  }

  @Override
  public void getPluginInfo(Csi.GetPluginInfoRequest request, StreamObserver<Csi.GetPluginInfoResponse> out) {
    Rpc.answer(out, () -> Csi.GetPluginInfoResponse.newBuilder()
        .setName(DriverConfig.DRIVER_NAME)
        .setVendorVersion(version)
        .build());
  }

  @Override
  public void getPluginCapabilities(Csi.GetPluginCapabilitiesRequest request,
      StreamObserver<Csi.GetPluginCapabilitiesResponse> out) {
    Rpc.answer(out, () -> {
      Csi.GetPluginCapabilitiesResponse.Builder response = Csi.GetPluginCapabilitiesResponse.newBuilder();
      if (controller) {
        response.addCapabilities(service(Csi.PluginCapability.Service.Type.CONTROLLER_SERVICE));
      }
      // A file store lives on one node: its volumes carry that node's topology.
      response.addCapabilities(service(Csi.PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS));
      // ONLINE: a staged device grows in use (its engine export has room to grow and the loop
      // device's size limit is raised; docs/CSI.md, "Expansion").
      response.addCapabilities(Csi.PluginCapability.newBuilder().setVolumeExpansion(
          Csi.PluginCapability.VolumeExpansion.newBuilder()
              .setType(Csi.PluginCapability.VolumeExpansion.Type.ONLINE)));
      return response.build();
    });
  }

  private static Csi.PluginCapability service(Csi.PluginCapability.Service.Type type) {
    return Csi.PluginCapability.newBuilder()
        .setService(Csi.PluginCapability.Service.newBuilder().setType(type))
        .build();
  }

  @Override
  public void probe(Csi.ProbeRequest request, StreamObserver<Csi.ProbeResponse> out) {
    Rpc.answer(out, () -> {
      try {
        store.check();
      } catch (StoreException e) {
        throw Rpc.unavailable("the store " + store.describe() + " is not usable: " + e.getMessage());
      } catch (IOException e) {
        throw Rpc.unavailable("the store " + store.describe() + " cannot be checked: " + e.getMessage());
      }
      return Csi.ProbeResponse.newBuilder().setReady(BoolValue.of(true)).build();
    });
  }
}
