package dev.gtramp.kernel;

/**
 * The errno codes the modelled kernel paths return, with their Linux x86-64 numbers so that a
 * kernel engineer can match an error to the C code that would return it.
 */
public enum Errno {
    EPERM(1),
    ENOENT(2),
    EIO(5),
    ESRCH(3),
    E2BIG(7),
    EBADF(9),
    EAGAIN(11),
    ENOMEM(12),
    EACCES(13),
    EFAULT(14),
    EBUSY(16),
    EEXIST(17),
    ENODEV(19),
    EINVAL(22),
    ENOSPC(28),
    ERANGE(34),
    EDEADLK(35),
    /**
     * "Cannot send after transport endpoint shutdown": the model's answer to any state change
     * asked of a kernel (or an RCU domain) that has been closed. It says the object existed and was
     * shut down, which ENODEV ("no such device") and EINVAL (a bad argument) do not; drivers return
     * it the same way for a device that is going away ({@code -ESHUTDOWN} in USB and SCSI).
     */
    ESHUTDOWN(108),
    ENOTSUPP(524),
    EOPNOTSUPP(95);

    private final int code;

    Errno(int code) {
        this.code = code;
    }

    /** The positive errno value; kernel functions return its negation. */
    public int code() {
        return code;
    }

    /**
     * The errno with this value, positive or negated as a kernel function returns it.
     *
     * @throws IllegalArgumentException for 0 or a value the model does not know
     */
    public static Errno of(int code) {
        int c = Math.abs(code);
        for (Errno e : values()) {
            if (e.code == c) {
                return e;
            }
        }
        throw new IllegalArgumentException("errno " + code + " is not one the model knows");
    }
}
