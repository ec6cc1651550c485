package io.egosecure.core.model;

/**
 * The opaque, stable id of a tenant: 1 to 64 characters of {@code a-z}, {@code 0-9} and
 * {@code -}. Safe to put in a URL path or a secret's prefix as it is.
 */
public record TenantId(String value) implements Comparable<TenantId> {
  public TenantId {
    Checks.id(value, "tenantId");
  }

  public static TenantId of(String value) {
    return new TenantId(value);
  }

  @Override
  public int compareTo(TenantId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
