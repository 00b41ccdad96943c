package org.edgedeblur.core;

/**
 * A manifest (or its JSON) that the app cannot use. The message says which field, what was
 * given and what is allowed, mirroring edgedeblur.errors.ArtifactError on the Python side.
 */
public class ManifestException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ManifestException(String message) {
        super(message);
    }
}
