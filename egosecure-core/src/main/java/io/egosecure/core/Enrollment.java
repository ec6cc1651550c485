package io.egosecure.core;

import io.egosecure.core.model.Agent;
import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.model.PublicSigningKey;
import java.util.List;

/**
 * A new agent, its credential (shown once), how often to poll, and the keys its PolicySets will
 * be signed with.
 */
public record Enrollment(
    Agent agent, String credential, PollingSettings polling, List<PublicSigningKey> signingKeys) {
  public Enrollment {
    signingKeys = List.copyOf(signingKeys);
  }

  @Override
  public String toString() {
    return "Enrollment[" + agent.id() + ", tenant=" + agent.tenantId() + ", credential=(hidden)]";
  }
}
