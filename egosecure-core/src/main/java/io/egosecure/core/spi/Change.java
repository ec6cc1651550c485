package io.egosecure.core.spi;

import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.TenantId;
import java.util.Objects;

/**
 * What a {@link ChangeFeed} carries: which records to re-read, not their content, so a lost or
 * repeated message never leaves a node with wrong data, only with data it re-reads once more.
 */
public sealed interface Change permits Change.TenantChanged, Change.RevisionPublished, Change.AgentChanged {

  TenantId tenantId();

  /** The tenant, its settings, its revisions or its agents' published groups changed, or it is gone. */
  record TenantChanged(TenantId tenantId) implements Change {
    public TenantChanged {
      Objects.requireNonNull(tenantId, "tenantId == null");
    }
  }

  /**
   * A revision was published and no agent's published groups changed with it: the tenant and its
   * latest revision are re-read, its agents need not be (in a large tenant, that read is most of
   * the time between a publish and the agents hearing of it).
   */
  record RevisionPublished(TenantId tenantId) implements Change {
    public RevisionPublished {
      Objects.requireNonNull(tenantId, "tenantId == null");
    }
  }

  /** One agent was enrolled, revoked, or changed. */
  record AgentChanged(TenantId tenantId, AgentId agentId) implements Change {
    public AgentChanged {
      Objects.requireNonNull(tenantId, "tenantId == null");
      Objects.requireNonNull(agentId, "agentId == null");
    }
  }
}
