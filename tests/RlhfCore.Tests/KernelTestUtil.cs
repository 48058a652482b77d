using RlhfCore.Backends;
using RlhfCore.Backends.Verification;

namespace RlhfCore.Tests;

/// <summary>
/// The shared kernel harness (<see cref="VerificationTensors"/>: seeded inputs, NaN-poisoned outputs, host
/// read-back), plus the NUnit assertion the kernel tests compare with the float64 references:
/// <c>atol + |ref|·rtol</c> per element.
/// </summary>
public sealed class KernelTestUtil(IBackend backend, int seed) : VerificationTensors(backend, seed)
{
    /// <summary>Asserts |actual − expected| ≤ atol + |expected|·rtol everywhere, and that nothing is NaN.</summary>
    public static void AssertClose(float[] actual, double[] expected, double atol, double rtol, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        for (int i = 0; i < actual.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            double tol = atol + Math.Abs(expected[i]) * rtol;
            if (!(err <= tol)) // catches NaN too
                Assert.Fail($"{what}: element {i} is {actual[i]}, reference {expected[i]} (|err| {err:g3} > tol {tol:g3})");
        }
    }
}
