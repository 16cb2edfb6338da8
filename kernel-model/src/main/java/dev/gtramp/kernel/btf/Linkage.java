package dev.gtramp.kernel.btf;

/** The linkage of a BTF {@code FUNC} ({@code btf_func_linkage}: its {@code info.vlen}). */
public enum Linkage {
    /** {@code BTF_FUNC_STATIC}. */
    STATIC,
    /** {@code BTF_FUNC_GLOBAL}. */
    GLOBAL,
    /** {@code BTF_FUNC_EXTERN}. */
    EXTERN;

    /** The linkage for the raw {@code vlen} value of a {@code FUNC} type. */
    public static Linkage of(int vlen) {
        return switch (vlen) {
            case 0 -> STATIC;
            case 1 -> GLOBAL;
            case 2 -> EXTERN;
            default -> throw new IllegalArgumentException("unknown BTF func linkage " + vlen);
        };
    }
}
