package dev.gtramp.study;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfTrampKind;

import java.util.Locale;

/** The program kinds of a study by their section names: {@code fentry}, {@code fexit}, {@code fmod_ret}. */
public final class Kinds {
    private Kinds() {
    }

    /** The regular attach type of a trampoline kind. */
    public static BpfAttachType regular(BpfTrampKind kind) {
        return switch (kind) {
            case FENTRY -> BpfAttachType.TRACE_FENTRY;
            case FEXIT -> BpfAttachType.TRACE_FEXIT;
            case MODIFY_RETURN -> BpfAttachType.MODIFY_RETURN;
        };
    }

    /** The section name of a kind, as libbpf spells it. */
    public static String label(BpfTrampKind kind) {
        return switch (kind) {
            case FENTRY -> "fentry";
            case FEXIT -> "fexit";
            case MODIFY_RETURN -> "fmod_ret";
        };
    }

    /**
     * The kind of a section name.
     *
     * @throws KernelException EINVAL naming the unknown kind and the known ones
     */
    public static BpfTrampKind parse(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "fentry" -> BpfTrampKind.FENTRY;
            case "fexit" -> BpfTrampKind.FEXIT;
            case "fmod_ret", "fmodret" -> BpfTrampKind.MODIFY_RETURN;
            default -> throw new KernelException(Errno.EINVAL, "unknown program kind '" + name.trim()
                    + "'; known kinds: fentry, fexit, fmod_ret");
        };
    }
}
