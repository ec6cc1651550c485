package io.egosecure.core;

import io.egosecure.core.model.EnrollmentToken;

/**
 * A new enrollment token and its secret. The secret exists only here: the server keeps its hash.
 *
 * @param secret what endpoints enroll with, shown once
 */
public record IssuedEnrollmentToken(EnrollmentToken token, String secret) {
  @Override
  public String toString() {
    return "IssuedEnrollmentToken[" + token.id() + ", secret=(hidden)]";
  }
}
