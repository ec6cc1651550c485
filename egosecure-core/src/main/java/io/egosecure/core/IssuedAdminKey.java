package io.egosecure.core;

import io.egosecure.core.model.AdminKey;

/**
 * A new admin key and its secret. The secret exists only here: the server keeps its hash.
 *
 * @param secret the bearer token to hand to the console, once
 */
public record IssuedAdminKey(AdminKey key, String secret) {
  @Override
  public String toString() {
    return "IssuedAdminKey[" + key.id() + ", " + key.role() + ", secret=(hidden)]";
  }
}
