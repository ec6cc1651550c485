package io.egosecure.core;

import io.egosecure.core.model.Revision;

/**
 * What a publish or restore did.
 *
 * @param created whether a new revision was made; {@code false} when nothing had changed and
 *     {@code revision} is the current one (transports answer 200 instead of 201)
 */
public record PublishResult(Revision revision, boolean created) {}
