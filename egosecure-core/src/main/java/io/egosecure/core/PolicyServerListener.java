package io.egosecure.core;

import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.TenantId;

/**
 * Hears what a transport must act on: push a notification, close a revoked agent's socket.
 * Called on whichever node learns of the change (publishes made on other nodes arrive through
 * the change feed). Every method has a no-op default, so events can be added without breaking
 * implementations. Methods must not block.
 */
public interface PolicyServerListener {

  /** The tenant has a new current revision (a publish or restore, on any node). */
  default void revisionPublished(TenantId tenant, long revision) {}

  /** The agent was revoked, or its tenant deleted: close anything it holds open. */
  default void agentRevoked(TenantId tenant, AgentId agent) {}
}
