package io.egosecure.agent;

import io.egosecure.core.model.PolicySet;

/**
 * Puts a verified PolicySet into force on this endpoint: the one thing an application embedding
 * the agent must write.
 *
 * <p>The agent calls it on its own thread, never concurrently with itself, only with sets whose
 * signature, tenant, agent, revision order and expiry it has checked. What it returns is reported
 * to the server; an exception it throws is reported as a failure with the exception's message,
 * and the agent carries on.
 *
 * <pre>{@code
 * PolicyApplier applier = set -> {
 *   for (PolicySet.Entry policy : set.policies()) {
 *     deviceControl.configure(policy.kind(), policy.settings());
 *   }
 *   return ApplyResult.success();
 * };
 * }</pre>
 */
@FunctionalInterface
public interface PolicyApplier {
  /**
   * Applies {@code policySet} whole. A failed or partial apply should undo itself if it can and
   * say why; the agent then keeps the previous set as its last-known-good and retries at the next
   * poll.
   */
  ApplyResult apply(PolicySet policySet) throws Exception;
}
