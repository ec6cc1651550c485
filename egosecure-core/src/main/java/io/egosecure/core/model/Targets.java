package io.egosecure.core.model;

import java.util.Collection;
import java.util.Set;

/**
 * Which agents a policy applies to: every agent of the tenant, or those in at least one of some
 * groups. Groups are free-form names, not resources.
 */
public sealed interface Targets permits Targets.AllAgents, Targets.Groups {

  /** Whether an agent in {@code agentGroups} gets the policy. */
  boolean matches(Set<String> agentGroups);

  static Targets allAgents() {
    return AllAgents.INSTANCE;
  }

  static Targets groups(Collection<String> groups) {
    return new Groups(Set.copyOf(groups));
  }

  /** Every agent of the tenant. */
  enum AllAgents implements Targets {
    INSTANCE;

    @Override
    public boolean matches(Set<String> agentGroups) {
      return true;
    }
  }

  /** Agents in at least one of {@code groups}; an empty set targets nobody. */
  record Groups(Set<String> groups) implements Targets {
    public Groups {
      groups = Checks.groups(groups, "targets.groups");
    }

    @Override
    public boolean matches(Set<String> agentGroups) {
      for (String group : groups) {
        if (agentGroups.contains(group)) {
          return true;
        }
      }
      return false;
    }
  }
}
