package io.egosecure.core.model;

/**
 * The opaque, stable id of a policy: 1 to 64 characters of {@code a-z}, {@code 0-9} and
 * {@code -}. Safe to put in a URL path or a secret's prefix as it is.
 */
public record PolicyId(String value) implements Comparable<PolicyId> {
  public PolicyId {
    Checks.id(value, "policyId");
  }

  public static PolicyId of(String value) {
    return new PolicyId(value);
  }

  @Override
  public int compareTo(PolicyId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
