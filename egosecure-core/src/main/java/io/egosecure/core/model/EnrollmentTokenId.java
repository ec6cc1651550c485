package io.egosecure.core.model;

/**
 * The opaque, stable id of a enrollment token: 1 to 64 characters of {@code a-z}, {@code 0-9} and
 * {@code -}. Safe to put in a URL path or a secret's prefix as it is.
 */
public record EnrollmentTokenId(String value) implements Comparable<EnrollmentTokenId> {
  public EnrollmentTokenId {
    Checks.id(value, "enrollmentTokenId");
  }

  public static EnrollmentTokenId of(String value) {
    return new EnrollmentTokenId(value);
  }

  @Override
  public int compareTo(EnrollmentTokenId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
