package dev.gtramp.kernel.btf;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

/**
 * Malformed BTF: what {@code btf_parse()} in {@code kernel/bpf/btf.c} rejects with {@code -EINVAL}
 * and a verifier-log line. The message names the problem and where it is: the byte offset from the
 * start of the blob and, inside the type section, the type id and kind.
 */
public final class BtfFormatException extends KernelException {
    private static final long serialVersionUID = 1L;

    public BtfFormatException(String message) {
        super(Errno.EINVAL, message);
    }

    public BtfFormatException(String message, Throwable cause) {
        super(Errno.EINVAL, message, cause);
    }
}
