package io.egosecure.agent;

import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.TenantId;

/**
 * What the agent tells the application. Every method has an empty default; override the ones you
 * need. Calls come from the agent's own thread, one at a time; an exception thrown here is logged
 * and otherwise ignored.
 */
public interface PolicyAgentListener {
  /** This agent was enrolled: its credential and the tenant's keys are saved in the state directory. */
  default void enrolled(AgentId agentId, TenantId tenantId) {}

  /** The first exchange with the server since {@code start()} succeeded: the agent is in step. */
  default void ready() {}

  /**
   * {@code policySet} is in force: newly received, or the last-known-good set re-applied at start.
   */
  default void applied(PolicySet policySet) {}

  /** A received set was not put into force; it has been reported to the server. */
  default void rejected(Rejection rejection) {}

  /**
   * The set in force passed its {@code expiresAt} and no fresher one could be fetched. It stays in
   * force unless the agent was built to {@linkplain PolicyAgent.Builder#failClosed fail closed};
   * the application decides what stale policy means for it.
   */
  default void stale(PolicySet lastKnownGood) {}

  /**
   * The server refused this agent's credential (revoked, or its tenant deleted). The agent stops
   * polling and keeps enforcing its last-known-good set. To enroll again, close the agent, delete
   * {@code identity.json} from its state directory, and start a new one with a fresh token.
   */
  default void revoked() {}

  /**
   * Something went wrong that the agent handles itself — the server unreachable, a corrupt state
   * file, an enrollment token refused — reported so the application can log or show it.
   */
  default void error(PolicyAgentException problem) {}
}
