"""Array views without a reference count, for the compiled request loop.

numba counts references to every array a variable holds: each time an
inlined hook binds an array (``(links,) = arrays``) it increments the
array's count and decrements it afterwards, with atomic instructions. LLVM
prunes most of these pairs, but not across the branches of a policy with
several lists, where they took 35-58 % of the replay time (perf, ARC,
S3-FIFO, 2Q, LIRS, W-TinyLFU). A view whose meminfo is NULL makes numba's
increment and decrement return at once. The caller's arrays stay alive
(and owned) for the whole replay, so the views never outlive them.
"""

from numba.core import cgutils, types
from numba.extending import intrinsic, overload
from numba.np.arrayobj import make_array


def borrowed(arrays):
    """``arrays`` (an array, or a tuple whose arrays are replaced; None stays None) as uncounted views of
    the same memory.

    Plain Python (``NUMBA_DISABLE_JIT=1``) has no counts to skip: the arrays come back as they are.
    """
    return arrays


def _without_meminfo(context, builder, array_type, value):
    array = make_array(array_type)(context, builder, value=value)
    array.meminfo = cgutils.get_null_value(array.meminfo.type)
    return array._getvalue()


@intrinsic
def _borrowed(typingctx, arrays):
    if isinstance(arrays, types.Array):

        def codegen(context, builder, signature, args):
            return _without_meminfo(context, builder, signature.args[0], args[0])

        return arrays(arrays), codegen
    if not isinstance(arrays, types.BaseTuple):
        return None

    def codegen(context, builder, signature, args):
        members = []
        for index, member_type in enumerate(signature.args[0]):
            member = builder.extract_value(args[0], index)
            if isinstance(member_type, types.Array):
                member = _without_meminfo(context, builder, member_type, member)
            members.append(member)
        return context.make_tuple(builder, signature.return_type, members)

    return arrays(arrays), codegen


@overload(borrowed)
def _borrowed_compiled(arrays):
    if isinstance(arrays, types.NoneType):
        return lambda arrays: arrays
    return lambda arrays: _borrowed(arrays)
