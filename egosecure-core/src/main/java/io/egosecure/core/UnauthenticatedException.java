package io.egosecure.core;

/**
 * The credential is missing, malformed, unknown, revoked, expired, or of the wrong kind for
 * the operation. The message never says which, so it cannot be used to probe secrets.
 */
public final class UnauthenticatedException extends EgoSecureException {
  private static final long serialVersionUID = 1L;

  public UnauthenticatedException(String message) {
    super(message);
  }
}
