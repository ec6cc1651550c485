package io.egosecure.core;

import static java.util.Objects.requireNonNull;

/**
 * A value broke a rule of the model or of a request: a name too long, an interval out of
 * range, a malformed message. Transports answer it with 400.
 */
public final class ValidationException extends EgoSecureException {
  private static final long serialVersionUID = 1L;

  private final String field;

  /**
   * @param field the offending field, as named on the wire (for example {@code
   *     intervalSeconds}), or a JSON pointer into the request body
   * @param message what is wrong and the bound it broke
   */
  public ValidationException(String field, String message) {
    super(requireNonNull(field, "field == null") + ": " + message);
    this.field = field;
  }

  /** The offending field or JSON pointer. */
  public String field() {
    return field;
  }
}
