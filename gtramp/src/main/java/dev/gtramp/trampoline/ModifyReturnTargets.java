package dev.gtramp.trampoline;

import dev.gtramp.kernel.KernelFunction;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where {@code fmod_ret} programs may attach ({@code check_attach_modify_return}): functions on the
 * error-injection list ({@code ALLOW_ERROR_INJECTION}), functions in a registered fmodret BTF id set
 * ({@code register_btf_fmodret_id_set}), and LSM hooks ({@code security_*}). The image has no
 * error-injection list, so the model starts from the fmodret set of {@code net/bpf/test_run.c}
 * ({@code bpf_test_modify_return_ids}); {@link #allow} adds more, as a module's set would.
 */
public final class ModifyReturnTargets {
    private static final String SECURITY_PREFIX = "security_";
    private final Set<String> allowed = ConcurrentHashMap.newKeySet();

    ModifyReturnTargets() {
        allowed.addAll(Set.of("bpf_modify_return_test", "bpf_modify_return_test2", "bpf_modify_return_test_tp",
                "bpf_fentry_test1"));
    }

    /** Lets fmod_ret programs attach to {@code function}. */
    public void allow(String function) {
        allowed.add(function);
    }

    public boolean allows(KernelFunction f) {
        return allowed.contains(f.name()) || f.name().startsWith(SECURITY_PREFIX);
    }
}
