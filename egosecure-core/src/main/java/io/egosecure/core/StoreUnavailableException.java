package io.egosecure.core;

/**
 * The store could not be reached or failed for a reason that is not the caller's: a lost
 * connection, a full disk, a timeout. Transports answer 503 with Retry-After.
 */
public final class StoreUnavailableException extends EgoSecureException {
  private static final long serialVersionUID = 1L;

  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
