package io.egosecure.core;

import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.wire.SignedPolicySet;

/**
 * The answer to a poll: the agent's set is unchanged ({@code 304}), or here is the new one
 * ({@code 200}). Both carry the strong, quoted ETag and the tenant's current polling settings,
 * which transports send as headers.
 */
public sealed interface PollResult permits PollResult.NotModified, PollResult.Changed {

  /** The quoted, strong ETag of the agent's current set. */
  String etag();

  /** The tenant's polling settings now (they may differ from those signed into the set). */
  PollingSettings polling();

  record NotModified(String etag, PollingSettings polling) implements PollResult {}

  record Changed(SignedPolicySet policySet, String etag, PollingSettings polling)
      implements PollResult {}
}
