package io.egosecure.core.model;

import java.util.Comparator;
import java.util.List;

/**
 * A revision with everything it published: the policies as they were, and the polling interval
 * signed into every PolicySet of that revision. Restoring a revision starts from this.
 *
 * @param policies ordered by id, so two snapshots of the same content are equal
 */
public record RevisionSnapshot(Revision revision, PollingSettings polling, List<Policy> policies) {
  public RevisionSnapshot {
    Checks.notNull(revision, "revision");
    Checks.notNull(polling, "polling");
    policies =
        Checks.notNull(policies, "policies").stream()
            .sorted(Comparator.comparing(Policy::id))
            .toList();
  }

  public long number() {
    return revision.number();
  }
}
