package dev.gtramp.kernel;

import java.util.Objects;

/**
 * An error a modelled kernel path returns: the errno the C code would return, and a message that
 * names the culprit (which function, which argument). Thrown instead of returning {@code -errno}
 * so that no caller can ignore it; {@link #errno()} keeps the kernel's code for tests and tools.
 */
public class KernelException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Errno errno;

    public KernelException(Errno errno, String message) {
        super(errno.name() + ": " + message);
        this.errno = Objects.requireNonNull(errno, "errno");
    }

    public KernelException(Errno errno, String message, Throwable cause) {
        super(errno.name() + ": " + message, cause);
        this.errno = Objects.requireNonNull(errno, "errno");
    }

    public Errno errno() {
        return errno;
    }

    /** The negated errno, as the kernel function would have returned it. */
    public int returnCode() {
        return -errno.code();
    }
}
