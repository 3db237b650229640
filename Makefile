# batchserve: the verbs a user types. `make help` lists them.
MVN        ?= mvn -B -q
SPARK_VERSION := 3.5.3
WORK       ?= work
SAMPLE_DIR := $(WORK)/sample/fraud
MODEL_DIR  := $(WORK)/models/fraud-mlp/1
# make run INPUT=my.csv MODEL=dir OUTPUT=dir: the sample and the demo model are built only when used.
INPUT      ?= $(SAMPLE_DIR)/accounts.csv
MODEL      ?= $(MODEL_DIR)
# Every verb after `make build` runs the launcher (java on the class path the build wrote), not Maven.
BATCHSERVE := bin/batchserve
OUTPUT     ?= $(WORK)/predictions/fraud
RUNNER     ?= FlinkRunner
RUN_DATE   ?= $(shell date -u +%Y-%m-%d)
RUN_ARGS   ?=
ACCOUNTS   ?= 2000
PIPELINES  := $(MVN) -pl pipelines exec:java
CLASSPATH_FILE       := pipelines/target/classpath.txt
FLINK_CLASSPATH_FILE := pipelines/target/classpath-flink.txt

.PHONY: test-deps help build build-flink run run-flink flink-up flink-down flink-status template sample train-demo test package clean inspect verify-model bench-models bench bench-recommend bench-runners bench-adaptive run-job run-fraud-transactions run-recommend run-churn lookup check-staleness

help:
	@echo "make run          build, generate the sample, train the demo model, score every account (Flink embedded, parallelism = cores; RUNNER=DirectRunner for the Direct runner)"
	@echo "make test         run the whole test suite (mvn verify), then build examples/consumer against the installed jars"
	@echo "make run RUNNER=SparkRunner   the same job on Spark $(SPARK_VERSION) (SPARK_MASTER=local[2]; forked JVM with Java 17 module opens)"
	@echo "make run-flink    the same job on Flink: embedded by default, FLINK_MASTER=host:port for a cluster"
	@echo "make flink-up     start a local Flink session cluster from Maven jars ($(FLINK_DIR)/, FLINK_TMS=$(FLINK_TMS) TaskManagers)"
	@echo "make flink-down   stop it (logs stay in $(FLINK_DIR)/log)"
	@echo "make template     Dataflow Flex Template build context in $(TEMPLATE_DIR): metadata.json, Dockerfile, bundled jar"
	@echo "make sample       write the fraud sample ($(ACCOUNTS) accounts) to $(SAMPLE_DIR)"
	@echo "make train-demo   train and export the demo TF model to $(MODEL_DIR)"
	@echo "make test-deps    install what the S3 and DynamoDB tests start: dynalite (npm) into .ci/node, S3Proxy's class path"
	@echo "make package      build the jars without running tests"
	@echo "make inspect MODEL=dir / make verify-model MODEL=dir   show / check a model directory"
	@echo "make bench-models raw records/s of each model backend (TF, ONNX, XGBoost, linear) per batch size"
	@echo "make bench        the benchmark suite: raw engines, batching in the pipeline, end to end at 1M and 5M rows, Redis store, recommendations, runners"
	@echo "make bench-recommend  top-$(BENCH_K) for $(BENCH_USERS) users over $(BENCH_ITEMS) items x $(BENCH_DIM): users/s, GFLOP/s vs the raw TF matmul"
	@echo "make bench-adaptive   fixed vs adaptive batch sizes at $(ADAPTIVE_RECORDS) records: records/s and batch-size distribution"
	@echo "make bench-runners    the fraud job ($(RUNNER_BENCH_RECORDS) rows) on Direct, Flink embedded and a local Flink cluster, predictions compared"
	@echo "make run-job      the config-driven job (JOB=$(JOB))"
	@echo "make run-fraud-transactions / run-recommend / run-churn   the other worked examples (on Flink embedded; RUNNER=DirectRunner on the Direct runner)"
	@echo "make lookup KEY=... REDIS=host:port PREFIX=...            a served prediction, with its age"
	@echo "make check-staleness OUTPUT=... INTERVAL=daily            exit 0 while the latest run is fresh"
	@echo "make clean        remove build outputs and $(WORK)/"
	@echo "Variables: INPUT=$(INPUT) MODEL=$(MODEL) OUTPUT=$(OUTPUT) RUNNER=$(RUNNER) RUN_DATE=$(RUN_DATE) RUN_ARGS='--batchSize=512 ...'"
	@echo "After 'make build' every verb also runs without make or Maven: bin/batchserve --help"

# Writes pipelines/target/classpath.txt and tools/target/classpath.txt (batchserve-tools: the verbs
# sample, train and flink), the class paths bin/batchserve runs on.
build:
	@echo "==> Building and installing the modules (tests skipped; 'make test' runs them)"
	$(MVN) install -DskipTests
	@echo "==> Writing the Flink runner's class path (bin/batchserve's default runner: Flink embedded)"
	$(MVN) -q -Pflink -pl pipelines process-classes

# Kept for older instructions: `make build` writes the Flink class path too.
build-flink: build

$(FLINK_CLASSPATH_FILE):
	$(MVN) -q -Pflink -pl pipelines -am process-classes

$(SAMPLE_DIR)/accounts.csv:
	@echo "==> Generating the fraud sample: $(ACCOUNTS) accounts, seed 42"
	$(BATCHSERVE) sample --out=$(SAMPLE_DIR) --accounts=$(ACCOUNTS) --seed=42

$(MODEL_DIR)/model-manifest.json:
	@echo "==> Training the demo fraud model (TensorFlow Java SavedModel, no Python)"
	$(BATCHSERVE) train --modelDir=$(MODEL_DIR) --accounts=20000 --seed=7 --version=1

sample: build $(SAMPLE_DIR)/accounts.csv

train-demo: build $(MODEL_DIR)/model-manifest.json

# Spark (RUNNER=SparkRunner) runs in a forked JVM with the Spark profile (-Pspark: Beam's SparkRunner
# and Spark $(SPARK_VERSION)) and the module opens Spark's launcher sets on Java 17 (SPARK_OPENS, the same
# list as spark.addOpens in pom.xml). SPARK_MASTER=local[2] by default; spark://host:7077 for a cluster
# needs the bundled jar instead (README, "Spark").
SPARK_MASTER ?= local[2]
SPARK_OPENS  := $(foreach p,java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent java.util.concurrent.atomic sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar,--add-opens=java.base/$(p)=ALL-UNNAMED) -Djdk.reflect.useDirectMethodHandle=false
SPARK_JAVA    = $(MVN) -Pspark -pl pipelines exec:exec -Dexec.executable=java -Dexec.workingdir=$(CURDIR)

# The sample and the demo model are prerequisites only while INPUT / MODEL are the defaults.
RUN_INPUTS = $(if $(filter $(SAMPLE_DIR)/accounts.csv,$(INPUT)),$(SAMPLE_DIR)/accounts.csv) \
  $(if $(filter $(MODEL_DIR),$(MODEL)),$(MODEL_DIR)/model-manifest.json)
run: build $(RUN_INPUTS) $(if $(filter FlinkRunner,$(RUNNER)),$(FLINK_CLASSPATH_FILE))
ifeq ($(RUNNER),SparkRunner)
	$(SPARK_JAVA) -Dexec.args="$(SPARK_OPENS) -cp %classpath dev.batchserve.pipelines.BatchScoringPipeline --runner=SparkRunner --sparkMaster=$(SPARK_MASTER) --input=$(abspath $(INPUT)) --model=$(abspath $(MODEL)) --output=$(abspath $(OUTPUT)) --runDate=$(RUN_DATE) $(RUN_ARGS)"
else
	$(BATCHSERVE) score --runner=$(RUNNER) $(if $(filter FlinkRunner,$(RUNNER)),--flinkMaster='$(FLINK_MASTER)' --parallelism=$(PARALLELISM)) --input=$(abspath $(INPUT)) --model=$(abspath $(MODEL)) --output=$(abspath $(OUTPUT)) --runDate=$(RUN_DATE) $(RUN_ARGS)
endif

# Flink runs in a forked JVM (exec:exec): Flink's user-code class loading fails inside exec:java's
# class loader (ClassNotFoundException: org.apache.flink.api.common.ExecutionConfig).
# Paths are made absolute: on a cluster the TaskManagers run in their own working directory.
FLINK_MASTER ?= [local]
PARALLELISM  ?= $(shell nproc 2>/dev/null || echo 2)
FLINK_DIR    ?= $(WORK)/flink
FLINK_TMS    ?= 1
run-flink: build-flink $(RUN_INPUTS)
	$(BATCHSERVE) score --runner=FlinkRunner --flinkMaster='$(FLINK_MASTER)' --parallelism=2 --input=$(abspath $(INPUT)) --model=$(abspath $(MODEL)) --output=$(abspath $(OUTPUT)) --runDate=$(RUN_DATE) $(RUN_ARGS)
	@if [ "$(FLINK_MASTER)" != "[local]" ]; then echo "==> Jobs on $(FLINK_MASTER):"; curl -s http://$(FLINK_MASTER)/jobs/overview; echo; fi

# A Flink 1.19.0 session cluster from Maven jars (flink/pom.xml lists them; no flink-dist): a JobManager
# and FLINK_TMS TaskManager JVMs on 127.0.0.1 with free ports. State (pids, ports): $(FLINK_DIR)/cluster.json;
# the REST address alone: $(FLINK_DIR)/rest-address.
flink-up: build
	@echo "==> Starting a Flink session cluster in $(FLINK_DIR) ($(FLINK_TMS) TaskManager(s))"
	$(BATCHSERVE) flink up --dir=$(abspath $(FLINK_DIR)) --pom=$(CURDIR)/flink/pom.xml --taskManagers=$(FLINK_TMS)
	@echo "==> Submit the scoring job: make run-flink FLINK_MASTER=$$(cat $(FLINK_DIR)/rest-address)"

flink-down:
	$(BATCHSERVE) flink down --dir=$(abspath $(FLINK_DIR))

flink-status:
	$(BATCHSERVE) flink status --dir=$(abspath $(FLINK_DIR))

# Dataflow Flex Template build context: metadata.json generated from BatchScoringOptions, the Dockerfile
# (also checked in as docker/Dockerfile) and the bundled jar with the Dataflow runner.
TEMPLATE_DIR ?= $(WORK)/template
template:
	@echo "==> Building the bundled jar with the Dataflow runner (-Pdataflow,bundle)"
	$(MVN) -Pdataflow,bundle -DskipDirectRunner -pl pipelines -am package -DskipTests
	@echo "==> Writing $(TEMPLATE_DIR)/metadata.json and Dockerfile"
	$(PIPELINES) -Dexec.mainClass=dev.batchserve.pipelines.templates.WriteFlexTemplate -Dexec.args="--out=$(abspath $(TEMPLATE_DIR))"
	cp pipelines/target/batchserve-pipelines-*-bundled.jar $(TEMPLATE_DIR)/batchserve-pipelines-bundled.jar
	@ls -la $(TEMPLATE_DIR)

# The whole suite, then the consumer example, built against the installed modules like any user's project.
# dynalite (npm) and S3Proxy's class path for the DynamoDB and S3 tests; .ci/run does the same.
test-deps:
	MVN="$(MVN)" bash .ci/install-aws-test-servers.sh

# The launcher's own test (LauncherTest, in verify) runs bin/batchserve with no Maven on the PATH.
# The consumer's main runs a small pipeline on the installed jars (the core artifact only, no store client).
test: test-deps
	mvn -B verify
	mvn -B -q install -DskipTests
	mvn -B -f examples/consumer/pom.xml verify
	mvn -B -q -f examples/consumer/pom.xml exec:java -Dexec.args="--workDir=target/churn-demo"

package:
	$(MVN) package -DskipTests

inspect: $(CLASSPATH_FILE)
	$(BATCHSERVE) model inspect $(MODEL)

verify-model: $(CLASSPATH_FILE)
	$(BATCHSERVE) model verify $(MODEL)

# Verbs that need no fresh build once the launcher's class path exists.
$(CLASSPATH_FILE):
	$(MAKE) build

bench-models: build
	@mkdir -p $(WORK)/bench
	OMP_WAIT_POLICY=PASSIVE $(MVN) -pl bench exec:java -Dexec.classpathScope=compile -Dexec.mainClass=dev.batchserve.models.bench.RawEngineBenchmark \
	  -Dexec.args="--out $(WORK)/bench/raw-engines.json --work-dir $(WORK)/bench/models"

# Benchmarks (not tests: no timing assertions anywhere). Figures go to $(WORK)/bench/*.json and the
# tables are printed; BENCHMARKS.md summarises a run. BENCH_SIZES sets the end-to-end sizes. They live in the
# bench module (batchserve-bench), out of the production artifacts.
BENCH_RECORDS ?= 5000000
BENCH_SIZES   ?= 1000000 5000000
FLINK_LOCAL   := --runner=FlinkRunner --flinkMaster=[local] --parallelism=2
BENCH_JAVA     = $(MVN) -Pflink -pl bench exec:exec -Dexec.executable=java -Dexec.workingdir=$(CURDIR)
bench: bench-models
	@mkdir -p $(WORK)/bench
	@echo "==> Inference inside the pipeline vs the raw TF loop (Flink embedded, $(BENCH_RECORDS) records)"
	$(BENCH_JAVA) -Dexec.args="-Xmx4g -cp %classpath dev.batchserve.pipelines.bench.PipelineBenchmark --out=$(WORK)/bench/pipeline.json --records=$(BENCH_RECORDS) --batchSizes=1,32,256,4096 $(FLINK_LOCAL)"
	@echo "==> The same at batch 256 and 4096 with Flink's DataStream translation for batch and object reuse"
	$(BENCH_JAVA) -Dexec.args="-Xmx4g -cp %classpath dev.batchserve.pipelines.bench.PipelineBenchmark --out=$(WORK)/bench/pipeline-datastream.json --records=$(BENCH_RECORDS) --batchSizes=256,4096 $(FLINK_LOCAL) --useDataStreamForBatch=true --objectReuse=true"
	$(BENCH_ADAPTIVE)
	@for n in $(BENCH_SIZES); do \
	  echo "==> The fraud job end to end, $$n accounts (Flink embedded, one JVM per size)"; \
	  $(BENCH_JAVA) -Dexec.args="-Xmx2g -cp %classpath dev.batchserve.pipelines.bench.EndToEndBenchmark --records=$$n --out=$(WORK)/bench/e2e-$$n.json $(FLINK_LOCAL)" || exit 1; \
	done
	@echo "==> Fitting the feature spec on 1,000,000 rows: AnalyzeFeatures (Flink embedded) vs FeatureSpec.fit (plain Java)"
	$(BENCH_JAVA) -Dexec.args="-Xmx6g -cp %classpath dev.batchserve.pipelines.bench.AnalyzeFeaturesBenchmark --records=1000000 --out=$(WORK)/bench/fit-1000000.json $(FLINK_LOCAL)"
	@echo "==> Redis sink write rate and lookup latency on a local redis-server"
	$(MVN) -pl transforms/io-redis exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.batchserve.transforms.redis.StoreBenchmark -Dexec.args="--out=$(WORK)/bench/store.json"
	$(BENCH_RECOMMEND)
	$(BENCH_RUNNERS)

# Fixed vs adaptive batch sizes (issue 20): records/s and the batch sizes that ran, same TF MLP.
ADAPTIVE_RECORDS ?= 1000000
define BENCH_ADAPTIVE
@mkdir -p $(WORK)/bench
@echo "==> Fixed vs adaptive batch sizes, $(ADAPTIVE_RECORDS) records (Flink embedded)"
$(BENCH_JAVA) -Dexec.args="-Xmx4g -cp %classpath dev.batchserve.pipelines.bench.AdaptiveBatchBenchmark --out=$(WORK)/bench/adaptive.json --records=$(ADAPTIVE_RECORDS) --fixedSizes=32,256,4096 --adaptive=16:8192 $(FLINK_LOCAL)"
endef
bench-adaptive: build
	$(BENCH_ADAPTIVE)

# Recommendations (issue 10): top-k users/s and GFLOP/s in the pipeline against the raw TF matmul.
BENCH_USERS ?= 100000
BENCH_ITEMS ?= 10000
BENCH_DIM   ?= 64
BENCH_K     ?= 100
define BENCH_RECOMMEND
@mkdir -p $(WORK)/bench
@echo "==> Recommendations: top-$(BENCH_K) for $(BENCH_USERS) users over $(BENCH_ITEMS) items x $(BENCH_DIM), raw TF vs the pipeline (Flink embedded)"
$(BENCH_JAVA) -Dexec.args="-Xmx6g -cp %classpath dev.batchserve.pipelines.bench.RecommendBenchmark --out=$(WORK)/bench/recommend.json --workDir=$(WORK)/bench/recommend --users=$(BENCH_USERS) --items=$(BENCH_ITEMS) --dim=$(BENCH_DIM) --k=$(BENCH_K) --batchSize=256 $(FLINK_LOCAL)"
endef
bench-recommend: build
	$(BENCH_RECOMMEND)

# The same fraud job on the Direct runner, Flink embedded and a local Flink session cluster (its jars
# copied into $(WORK)/bench/flink-cluster/lib by a Maven run that reads the same local repository as MVN).
RUNNER_BENCH_RECORDS ?= 200000
BENCH_MAVEN_PROPS = $(filter -Dmaven.repo.local=%,$(MVN)) $(if $(filter -o --offline,$(MVN)),-Dbatchserve.mavenOffline=true)
define BENCH_RUNNERS
@mkdir -p $(WORK)/bench
@echo "==> The fraud job, $(RUNNER_BENCH_RECORDS) accounts, on Direct, Flink embedded and a Flink session cluster"
$(BENCH_JAVA) -Dexec.args="-Xmx6g $(BENCH_MAVEN_PROPS) -cp %classpath dev.batchserve.pipelines.bench.RunnerBenchmark --records=$(RUNNER_BENCH_RECORDS) --out=$(WORK)/bench/runners.json --workDir=$(WORK)/bench/e2e --flinkDir=$(abspath $(WORK))/bench/flink-cluster --flinkPom=$(CURDIR)/flink/pom.xml"
endef
bench-runners: build
	$(BENCH_RUNNERS)

# The other worked examples (batchserve-examples, examples/jobs) and the config-driven job.
JOB       ?= pipelines/src/main/resources/jobs/fraud-daily.yaml
USERS     ?= 10000
ITEMS     ?= 2000
CUSTOMERS ?= 10000
# RUNNER=SparkRunner runs it on Spark (SPARK_MASTER, local[2] by default) in a forked JVM, like run.
# RUNNER=FlinkRunner runs the job on Flink embedded (FLINK_MASTER=[local]) or a cluster
# (FLINK_MASTER=host:port) in a forked JVM, like run-flink; any other runner runs in exec:java.
ifeq ($(RUNNER),FlinkRunner)
RUN_MAIN = $(MVN) -Pflink -pl examples/jobs exec:exec -Dexec.executable=java -Dexec.workingdir=$(CURDIR) \
  -Dexec.args="-cp %classpath $(1) --runner=FlinkRunner --flinkMaster=$(FLINK_MASTER) --parallelism=2 $(2)"
else ifeq ($(RUNNER),SparkRunner)
# The job's Spark class path (pipelines -Pspark) plus the examples and batchserve-tools (make build writes
# tools/target/classpath.txt).
RUN_MAIN = $(SPARK_JAVA) -Dexec.args="$(SPARK_OPENS) -cp %classpath:$(CURDIR)/examples/jobs/target/classes:$(CURDIR)/tools/target/classes:$$(cat $(CURDIR)/tools/target/classpath.txt) $(1) --runner=SparkRunner --sparkMaster=$(SPARK_MASTER) $(2)"
else
RUN_MAIN = $(MVN) -pl examples/jobs exec:java -Dexec.mainClass=$(1) -Dexec.args="--runner=$(RUNNER) $(2)"
endif

run-job: build $(SAMPLE_DIR)/accounts.csv $(MODEL_DIR)/model-manifest.json $(if $(filter FlinkRunner,$(RUNNER)),$(FLINK_CLASSPATH_FILE))
	@echo "==> Running the job $(JOB) for run date $(RUN_DATE) on the $(RUNNER)"
	$(BATCHSERVE) job --config=$(JOB) --runDate=$(RUN_DATE) --runner=$(RUNNER) $(if $(filter FlinkRunner,$(RUNNER)),--flinkMaster='$(FLINK_MASTER)' --parallelism=2) $(RUN_ARGS)

# Stores beside the files: RUN_ARGS="--jdbcUrl=jdbc:postgresql://... --jdbcTable=fraud_scores --redisHost=..."
# (the fraud job serves the view fraud_risk(account_id, risk_score, score_date, model_version));
# churn to BigQuery: RUN_ARGS="--bigQueryTable=project:dataset.churn --tempLocation=gs://bucket/tmp".
run-fraud-transactions: build $(MODEL_DIR)/model-manifest.json
	$(call RUN_MAIN,dev.batchserve.examples.fraud.ScoreFraudTransactions,--accounts=$(ACCOUNTS) --model=$(abspath $(MODEL_DIR)) --fraudTxOutput=$(abspath $(WORK))/predictions/fraud-transactions --runDate=$(RUN_DATE) $(RUN_ARGS))

run-recommend: build
	$(call RUN_MAIN,dev.batchserve.examples.recommend.RecommendPipeline,--users=$(USERS) --items=$(ITEMS) --recsModel=$(abspath $(WORK))/models/recs-topk/1 --recsOutput=$(abspath $(WORK))/predictions/recs --runDate=$(RUN_DATE) $(RUN_ARGS))

run-churn: build
	$(call RUN_MAIN,dev.batchserve.examples.churn.ChurnPipeline,--customers=$(CUSTOMERS) --churnModel=$(abspath $(WORK))/models/churn-logistic/1 --churnOutput=$(abspath $(WORK))/predictions/churn --runDate=$(RUN_DATE) $(RUN_ARGS))

# Serving and freshness.
REDIS    ?= 127.0.0.1:6379
PREFIX   ?= fraud
INTERVAL ?= daily
lookup: $(CLASSPATH_FILE)
	$(BATCHSERVE) lookup $(KEY) --redis $(REDIS) --prefix $(PREFIX)

check-staleness: $(CLASSPATH_FILE)
	$(BATCHSERVE) check-staleness --output=$(abspath $(OUTPUT)) --interval=$(INTERVAL) $(if $(SLA),--sla=$(SLA),)

clean:
	mvn -B -q clean
	rm -rf $(WORK)
