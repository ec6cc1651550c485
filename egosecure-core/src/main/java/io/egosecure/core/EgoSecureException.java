package io.egosecure.core;

/**
 * The root of every exception this library throws. Subtypes say what went wrong in terms a
 * transport can answer (a missing resource, a bad credential, a stale version); no
 * {@code SQLException}, jOOQ or Jetty exception ever crosses a module boundary.
 */
public class EgoSecureException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public EgoSecureException(String message) {
    super(message);
  }

  public EgoSecureException(String message, Throwable cause) {
    super(message, cause);
  }
}
