package io.egosecure.core;

import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.TenantId;
import java.util.Objects;

/** An authenticated agent, from {@link PolicyServer#authenticateAgent}. */
public record AgentIdentity(TenantId tenantId, AgentId agentId) {
  public AgentIdentity {
    Objects.requireNonNull(tenantId, "tenantId == null");
    Objects.requireNonNull(agentId, "agentId == null");
  }
}
