package io.egosecure.core.model;

/**
 * The opaque, stable id of a admin key: 1 to 64 characters of {@code a-z}, {@code 0-9} and
 * {@code -}. Safe to put in a URL path or a secret's prefix as it is.
 */
public record AdminKeyId(String value) implements Comparable<AdminKeyId> {
  public AdminKeyId {
    Checks.id(value, "adminKeyId");
  }

  public static AdminKeyId of(String value) {
    return new AdminKeyId(value);
  }

  @Override
  public int compareTo(AdminKeyId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
