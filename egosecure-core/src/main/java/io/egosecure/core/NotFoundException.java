package io.egosecure.core;

/**
 * The resource does not exist, or the caller may not see it. The two are deliberately the
 * same answer so a caller cannot probe another tenant's resources.
 */
public final class NotFoundException extends EgoSecureException {
  private static final long serialVersionUID = 1L;

  public NotFoundException(String message) {
    super(message);
  }
}
