package io.egosecure.core;

/** The caller is authenticated but its role may not use this operation at all. */
public final class ForbiddenException extends EgoSecureException {
  private static final long serialVersionUID = 1L;

  public ForbiddenException(String message) {
    super(message);
  }
}
