#!/usr/bin/env bash
# Mutation testing with Stryker.NET (a local dotnet tool, pinned in dotnet-tools.json) on one area of the library.
#
#   bash eng/mutation/mutation.sh AREA [extra Stryker options]
#
# AREA is one of: formulas, kernels, internals, ops, layers, entropy, compression, performance (the allocator setting,
# the kernels' thread pool, reading values), allocator (NativeAllocator alone), quantization, onnx, mkldnn (oneDNN's
# switch and its check), codec (the ImageCodec example's file formats, image handling, training checkpoints, widening and
# latent refinement), analyzers (eng/analyzers' rule; its member list is checked against TorchSharp's IL by a test),
# optim (Adam with kept Scalars), all. The report (HTML and JSON) lands
# in StrykerOutput/<date>/reports/ under SoftRound.Tf.Tests/. Not part of .ci/run: an area takes minutes on 2 cores.
# Surviving mutants that are equivalent (no test can tell them apart) are listed, with why, in EQUIVALENT.md beside
# this script.
set -euo pipefail
cd "$(dirname "$0")/../.."

area=${1:-}
shift || true
project=SoftRound.Tf.csproj
# The library's areas leave the examples' tests out (they run processes or train); the codec area runs them, but not
# its trainings.
filter="TestCategory!=Soak&TestCategory!=Training&TestCategory!=Long&FullyQualifiedName!~PackageTests&FullyQualifiedName!~Examples&FullyQualifiedName!~SoakTests"
case "$area" in
  formulas)  globs=("**/Internals/Formulas/*.cs") ;;
  kernels)   globs=("**/Kernels/*.cs") ;;
  internals) globs=("**/Internals/*.cs") ;;
  ops)       globs=("**/DifferentiableRound.cs" "**/SoftRound.cs" "**/SoftRoundInverse.cs" "**/SoftRoundConditionalMean.cs"
                    "**/RoundSt.cs" "**/SteSoftRound.cs" "**/PerturbAndApply.cs" "**/SoftRoundOps.cs") ;;
  layers)    globs=("**/*Layer.cs" "**/SteepnessSchedule.cs" "!**/Quantization/**") ;;
  entropy)   globs=("**/Entropy/*.cs") ;;
  compression) globs=("**/Compression/*.cs") ;;
  performance) globs=("**/Performance/*.cs" "**/Kernels/IntraOpPool.cs" "**/Internals/Scalars.cs") ;;
  quantization) globs=("**/Quantization/*.cs" "**/Kernels/FakeQuantizeKernel.cs" "**/Internals/FakeQuantizeFunction.cs") ;;
  onnx)      globs=("**/Onnx/*.cs" "**/Quantization/QuantizedGraph.cs" "**/Quantization/QuantizedStep.cs" "**/Quantization/QuantConvBn2d.cs"
                    "**/Quantization/FuseConvBn.cs" "**/Quantization/IntegerModelFormat.cs" "**/Quantization/IntegerReference.cs" "**/Quantization/PrepareQat.cs")
             filter="$filter&(FullyQualifiedName~Onnx|FullyQualifiedName~Quantization)" ;;
  allocator) globs=("**/Performance/NativeAllocator.cs")
             filter="$filter&FullyQualifiedName~NativeAllocator" ;;
  mkldnn)    globs=("**/Performance/MkldnnBackend.cs" "**/Performance/MkldnnCheck.cs")
             filter="$filter&FullyQualifiedName~Mkldnn" ;;
  codec)     globs=("**/SrzFile.cs" "**/ModelFile.cs" "**/Weights.cs" "**/Images.cs" "**/Sha256Trailer.cs" "**/Training.cs" "**/VariableRateHyperprior.cs" "**/Evaluation.cs" "**/Codec.cs" "**/Widening.cs" "**/WeightAveraging.cs")
             project=ImageCodec.csproj
             filter="FullyQualifiedName~Examples.ImageCodec&TestCategory!=Training&FullyQualifiedName!~Committed" ;;
  analyzers) globs=("**/ScalarLifetimeAnalyzer.cs")
             project=SoftRound.Tf.Analyzers.csproj
             filter="FullyQualifiedName~Analyzers" ;;
  optim)     globs=("**/Optim/*.cs")
             filter="$filter&FullyQualifiedName~Optim" ;;
  all)       globs=("**/*.cs") ;;
  *) echo "usage: bash eng/mutation/mutation.sh formulas|kernels|internals|ops|layers|entropy|compression|performance|allocator|quantization|onnx|mkldnn|codec|analyzers|optim|all [Stryker options]" >&2; exit 2 ;;
esac

dotnet tool restore > /dev/null
mutate=()
for g in "${globs[@]}"; do mutate+=(--mutate "$g"); done
# The polyfill is compiled for net8.0 only, and the build fix is not part of the library.
mutate+=(--mutate "!**/Kernels/VectorPolyfill.cs" --mutate "!**/buildTransitive/**")

cd SoftRound.Tf.Tests
# Long tests that exercise no library line another test does not (the soak, packing, the examples) are left out, and
# so are the trainings, whose class set-up Stryker would repeat for every mutant, and the few long tests (category Long:
# ten million symbols, every flipped bit of many streams), whose lines shorter tests reach too.
dotnet stryker \
  --project "$project" \
  --target-framework net10.0 \
  --test-case-filter "$filter" \
  --concurrency "$(nproc)" \
  --reporter html --reporter json --reporter progress --reporter cleartext \
  --skip-version-check \
  "${mutate[@]}" "$@"
