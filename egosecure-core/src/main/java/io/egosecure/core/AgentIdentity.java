package io.egosecure.core;

import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.TenantId;
import java.util.Objects;

/**
 * An authenticated agent. Only {@link PolicyServer#authenticateAgent} makes one, so holding it
 * means the agent's credential was checked.
 */
public final class AgentIdentity {
  private final TenantId tenantId;
  private final AgentId agentId;

  AgentIdentity(TenantId tenantId, AgentId agentId) {
    this.tenantId = Objects.requireNonNull(tenantId, "tenantId == null");
    this.agentId = Objects.requireNonNull(agentId, "agentId == null");
  }

  public TenantId tenantId() {
    return tenantId;
  }

  public AgentId agentId() {
    return agentId;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof AgentIdentity that && tenantId.equals(that.tenantId) && agentId.equals(that.agentId);
  }

  @Override
  public int hashCode() {
    return Objects.hash(tenantId, agentId);
  }

  @Override
  public String toString() {
    return "AgentIdentity[" + tenantId + "/" + agentId + "]";
  }
}
