"""A hint that an array element will be read soon: the processor starts loading its cache line.

The Redis and memcached models wait on memory more than they compute (a Redis miss samples keys
whose records lie anywhere in a table of every object; memcached's reads and writes an item record
and its neighbours in the LRU): starting the next requests' loads early lets those waits overlap.
A hint changes no value, and in plain Python (``NUMBA_DISABLE_JIT=1``) it does nothing.
"""

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic, overload
from numba.np.arrayobj import make_array


def prefetch(array, index) -> None:
    """Start loading ``array[index]`` into the cache (``index`` within bounds; nothing is checked)."""


@intrinsic
def _prefetch(typingctx, array, index):
    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        view = make_array(array_type)(context, builder, value=args[0])
        at = context.cast(builder, args[1], index_type, types.intp)
        pointer = cgutils.get_item_pointer2(context, builder, view.data, cgutils.unpack_tuple(builder, view.shape),
                                            cgutils.unpack_tuple(builder, view.strides), array_type.layout, [at],
                                            wraparound=False, boundscheck=False)  # fmt: skip
        byte_pointer = builder.bitcast(pointer, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer.type, i32, i32, i32])
        function = cgutils.get_or_insert_function(builder.module, function_type, "llvm.prefetch.p0i8")
        builder.call(function, [byte_pointer, i32(0), i32(3), i32(1)])  # a read, kept in every cache level, data
        return context.get_dummy_value()

    return types.none(array, index), codegen


@overload(prefetch)
def _prefetch_compiled(array, index):
    return lambda array, index: _prefetch(array, index)
