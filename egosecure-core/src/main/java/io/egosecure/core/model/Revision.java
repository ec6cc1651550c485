package io.egosecure.core.model;

import io.egosecure.core.ValidationException;
import java.time.Instant;

/**
 * One published, immutable revision of a tenant's policies. Numbers are per tenant and strictly
 * increasing; revision 0 is the empty set every tenant starts with.
 *
 * @param actor who published it (an admin key id, or {@code system})
 */
public record Revision(long number, Instant publishedAt, String comment, String actor) {
  public static final int MAX_COMMENT_LENGTH = 1000;

  public Revision {
    Checks.nonNegative(number, "revision");
    publishedAt = Checks.millis(publishedAt, "publishedAt");
    Checks.notNull(comment, "comment");
    if (comment.chars().anyMatch(c -> Character.isISOControl(c) && c != '\n' && c != '\t')) {
      throw new ValidationException("comment", "must not contain control characters other than line breaks and tabs");
    }
    if (comment.length() > MAX_COMMENT_LENGTH) {
      throw new ValidationException(
          "comment",
          "is " + comment.length() + " characters long; the limit is " + MAX_COMMENT_LENGTH);
    }
    Checks.notNull(actor, "actor");
  }
}
