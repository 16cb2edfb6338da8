package dev.gtramp.kernel.btf;

import java.util.Objects;

/**
 * One parameter of a function prototype, resolved through typedefs and qualifiers.
 *
 * @param name    the parameter name from BTF, or {@code ""} when BTF has none
 * @param type    the type as C source would spell it, e.g. {@code "struct sk_buff *"}, {@code "u64"}
 * @param size    the size in bytes of the resolved type (8 for pointers; 0 for {@code ...})
 * @param argClass its classification for argument passing
 */
public record Param(String name, String type, int size, ArgClass argClass) {
    public Param {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(argClass, "argClass");
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for parameter " + name);
        }
    }

    /** The parameter as a C declaration fragment, e.g. {@code "struct sk_buff *skb"}. */
    public String declaration() {
        if (argClass == ArgClass.VARARGS) {
            return "...";
        }
        if (name.isEmpty()) {
            return type;
        }
        return type.endsWith("*") ? type + name : type + " " + name;
    }
}
