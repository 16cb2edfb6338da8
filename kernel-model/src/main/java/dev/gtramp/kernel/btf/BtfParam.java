package dev.gtramp.kernel.btf;

import java.util.Objects;

/**
 * One {@code struct btf_param} of a {@code FUNC_PROTO}. A trailing param with type 0 and no name is
 * the {@code ...} of a variadic function.
 *
 * @param name the parameter name, {@code ""} when BTF has none
 * @param type the parameter's type id (0 only for a trailing {@code ...})
 */
public record BtfParam(String name, int type) {
    public BtfParam {
        Objects.requireNonNull(name, "name");
    }

    /** Whether this is the {@code ...} of a variadic prototype. */
    public boolean isVarargs() {
        return type == 0;
    }
}
