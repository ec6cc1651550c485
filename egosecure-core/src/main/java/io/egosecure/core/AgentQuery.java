package io.egosecure.core;

import io.egosecure.core.model.Agent;
import io.egosecure.core.model.AgentState;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Filters for listing agents; each present filter must match.
 *
 * @param state the state of the agent's last report
 * @param group a group the agent is in (its current, possibly unpublished groups)
 * @param lastSeenBefore agents last seen before this instant, or never
 */
public record AgentQuery(
    Optional<AgentState> state, Optional<String> group, Optional<Instant> lastSeenBefore) {
  public AgentQuery {
    Objects.requireNonNull(state, "state == null");
    Objects.requireNonNull(group, "group == null");
    Objects.requireNonNull(lastSeenBefore, "lastSeenBefore == null");
  }

  /** Every agent. */
  public static AgentQuery all() {
    return new AgentQuery(Optional.empty(), Optional.empty(), Optional.empty());
  }

  boolean matches(Agent agent) {
    return state.map(s -> agent.status().map(st -> st.state() == s).orElse(false)).orElse(true)
        && group.map(agent.groups()::contains).orElse(true)
        && lastSeenBefore
            .map(before -> agent.lastSeenAt().map(seen -> seen.isBefore(before)).orElse(true))
            .orElse(true);
  }
}
