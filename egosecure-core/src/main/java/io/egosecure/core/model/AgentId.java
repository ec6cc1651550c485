package io.egosecure.core.model;

/**
 * The opaque, stable id of a enrolled agent: 1 to 64 characters of {@code a-z}, {@code 0-9} and
 * {@code -}. Safe to put in a URL path or a secret's prefix as it is.
 */
public record AgentId(String value) implements Comparable<AgentId> {
  public AgentId {
    Checks.id(value, "agentId");
  }

  public static AgentId of(String value) {
    return new AgentId(value);
  }

  @Override
  public int compareTo(AgentId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
