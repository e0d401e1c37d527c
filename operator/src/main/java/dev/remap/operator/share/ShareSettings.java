package dev.remap.operator.share;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The share agents' port (remap.share.agent-port, REMAP_SHARE_AGENT_PORT, default 9810) and how
 * often a settled share is looked at again (remap.share.refresh, REMAP_SHARE_REFRESH, default
 * 10s): the agent's figures send the operator no event, so this is how soon they show in status.
 */
@ApplicationScoped
public class ShareSettings {

  private final int agentPort;
  private final Duration refresh;

  public ShareSettings(@ConfigProperty(name = "remap.share.agent-port", defaultValue = "9810") int agentPort,
      @ConfigProperty(name = "remap.share.refresh", defaultValue = "10s") Duration refresh) {
    if (agentPort < 1 || agentPort > 65535) {
      throw new IllegalArgumentException("REMAP_SHARE_AGENT_PORT (remap.share.agent-port) must be a TCP port, not "
          + agentPort);
    }
    if (refresh.isNegative() || refresh.isZero()) {
      throw new IllegalArgumentException("REMAP_SHARE_REFRESH (remap.share.refresh) must be a positive duration such as"
          + " 10s, not " + refresh);
    }
    this.agentPort = agentPort;
    this.refresh = refresh;
  }

  public int agentPort() {
    return agentPort;
  }

  public Duration refresh() {
    return refresh;
  }
}
