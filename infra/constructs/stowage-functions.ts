import * as path from 'node:path';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { hasEntry, prebuilt, prebuiltFunctionCode, REPO_ROOT } from './code-assets.js';
import { previewSchedulingEnvironment } from './function-environment.js';
import { acknowledge } from './nag-acknowledgements.js';
import { PreviewBrowserLayer } from './preview-browser-layer.js';
import { PreviewRendererLayer } from './preview-renderer-layer.js';

/** One Lambda per entry point in functions/ (test/unit/infra checks the folder against this list). */
export const FUNCTION_ENTRIES = {
  api: 'functions/api/handler.ts',
  processUpload: 'functions/process-upload/handler.ts',
  maintenance: 'functions/maintenance/handler.ts',
  renderPreview: 'functions/render-preview/handler.ts',
  renderPreviewBrowser: 'functions/render-preview-browser/handler.ts',
  // API.md 13.5, created by WebhookEvents
  webhookFanOut: 'functions/webhook-fan-out/handler.ts',
  webhookDelivery: 'functions/webhook-delivery/handler.ts',
} as const;

/**
 * Entry points being written elsewhere: each gets its Lambda as soon as its handler file exists
 * (issue 10: the background whole-file checksum of multipart uploads).
 */
export const OPTIONAL_FUNCTION_ENTRIES = {
  verifyChecksum: 'functions/verify-checksum/handler.ts',
  /** API.md 13.6: GuardDuty's scan results settle files (its events flow only with `malwareProtection`). */
  malwareScanResult: 'functions/malware-scan-result/handler.ts',
} as const;

/** Every entry point this checkout deploys: the fixed ones and the optional ones present. */
export function deployedEntries(): string[] {
  return [...Object.values(FUNCTION_ENTRIES), ...Object.values(OPTIONAL_FUNCTION_ENTRIES).filter(hasEntry)];
}

/** Left out of the bundles: see BUNDLING. */
export const PREVIEW_RENDERER_MODULES = [
  '@napi-rs/canvas',
  'pdfjs-dist',
  'sharp',
  'heic-decode',
  // The browser that draws SVG, text and HTML: in the browser render function's layer.
  'playwright-core',
  '@sparticuz/chromium',
] as const;

/**
 * esbuild, locally (no Docker), one minified ES module per function holding only what it
 * imports. The AWS SDK is bundled, not taken from the runtime, so the deployed code runs the
 * pinned SDK the tests ran (presigning and checksum defaults differ between SDK versions).
 */
const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: false,
  mainFields: ['module', 'main'],
  bundleAwsSDK: true,
  // The preview renderer loads these lazily (dynamic import), only in its render host process.
  // @napi-rs/canvas is a native addon esbuild cannot bundle: the render function gets both, for
  // linux-arm64, from its layer (PreviewRendererLayer); no other function draws.
  externalModules: [...PREVIEW_RENDERER_MODULES],
  // CommonJS parts of the bundle (some SDK dependencies) require() Node built-ins; ES modules
  // have no `require`, so give the bundle one.
  banner:
    "import { createRequire as __stowageCreateRequire } from 'node:module'; const require = __stowageCreateRequire(import.meta.url);",
  logLevel: nodejs.LogLevel.WARNING,
};

/**
 * In the repository: the entry point, bundled at synthesis. Installed from the package: the
 * bundle built from it when the package was packed (code-assets.ts).
 */
function codeOf(entry: string): nodejs.NodejsFunctionProps {
  if (prebuilt) return prebuiltFunctionCode(entry);
  return {
    entry: path.join(REPO_ROOT, entry),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
    bundling: BUNDLING,
  };
}

/** What one function needs beyond the shared settings. */
export type FunctionOptions = Pick<
  nodejs.NodejsFunctionProps,
  | 'environment'
  | 'memorySize'
  | 'timeout'
  | 'tracing'
  | 'layers'
  | 'reservedConcurrentExecutions'
  | 'architecture'
>;

export interface StowageFunctionsProps {
  /** What every function reads (functionEnvironment). */
  readonly environment: Record<string, string>;
  readonly memorySize: number;
  /** @default lambda.Tracing.DISABLED */
  readonly tracing?: lambda.Tracing;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  /** @default 1024 */
  readonly previewRenderMemorySize?: number;
  /** @default 2048 */
  readonly previewBrowserMemorySize?: number;
  /** @default - none (opt-in: see StowageServiceProps) */
  readonly previewRenderConcurrency?: number;
  /**
   * Create the checksum job (functions/verify-checksum).
   *
   * @default - when its handler file exists
   */
  readonly checksumFunction?: boolean;
  /**
   * The checksum job's entry point (tests build the wiring before the handler lands).
   *
   * @default OPTIONAL_FUNCTION_ENTRIES.verifyChecksum
   */
  readonly checksumEntry?: string;
}

/**
 * The service's Lambdas, each with its own role (logs to its own group only) and JSON logs.
 * Another one is `addFunction(id, entry, options)` and a line in FUNCTION_ENTRIES; its data
 * permissions are granted by the caller (StowageService), never here.
 */
export class StowageFunctions extends Construct {
  public readonly api: nodejs.NodejsFunction;
  public readonly processUpload: nodejs.NodejsFunction;
  public readonly maintenance: nodejs.NodejsFunction;
  /** Draws previews (PDF first pages, image thumbnails) into the cache, invoked asynchronously. */
  public readonly renderPreview: nodejs.NodejsFunction;
  /** Checks a declared whole-file sha256 of a multipart upload, invoked asynchronously. */
  public readonly verifyChecksum?: nodejs.NodejsFunction;
  /** Applies GuardDuty's malware scan results to files (API.md 13.6), invoked by EventBridge. */
  public readonly malwareScanResult?: nodejs.NodejsFunction;
  public readonly previewRenderer: PreviewRendererLayer;
  /**
   * Draws the previews Chromium draws (SVG, plain text, Markdown, CSV, HTML): the render entry
   * on x86_64, with Chromium in its layer. Invoked like `renderPreview`, for those types only.
   */
  public readonly renderPreviewBrowser: nodejs.NodejsFunction;
  public readonly previewBrowser: PreviewBrowserLayer;

  private readonly props: StowageFunctionsProps;

  constructor(scope: Construct, id: string, props: StowageFunctionsProps) {
    super(scope, id);
    this.props = props;
    const { environment } = props;
    this.previewRenderer = new PreviewRendererLayer(this, 'PreviewRenderer');
    // Measured (issue 4 notes): warm renders 50-100 ms, a cold render host ~0.35 s, peak ~110 MB.
    // 60 s covers the 20 s hard render limit (PREVIEW_RENDER_TIMEOUT_MS), reading a 100 MiB
    // source and a cold start, three times over.
    this.renderPreview = this.addFunction('RenderPreview', FUNCTION_ENTRIES.renderPreview, {
      environment: {
        ...environment,
        PREVIEW_AHEAD: 'off',
        PREVIEW_HOST_MODULE: this.previewRenderer.hostModule,
      },
      memorySize: props.previewRenderMemorySize ?? 1024,
      timeout: Duration.seconds(60),
      layers: [this.previewRenderer.layer],
      reservedConcurrentExecutions: props.previewRenderConcurrency,
    });
    this.renderPreview.configureAsyncInvoke({
      // A render that fails is recorded as failed, and one that times out would time out again;
      // throttled events are still retried by Lambda, until they are an hour old.
      retryAttempts: 0,
      maxEventAge: Duration.hours(1),
    });
    this.previewBrowser = new PreviewBrowserLayer(this, 'PreviewBrowser');
    // @sparticuz/chromium asks for at least 1,600 MB (a Chromium and its renderer); the first
    // launch of a container unpacks it into /tmp (about a second).
    this.renderPreviewBrowser = this.addFunction(
      'RenderPreviewBrowser',
      FUNCTION_ENTRIES.renderPreviewBrowser,
      {
        environment: { ...environment, PREVIEW_AHEAD: 'off', PREVIEW_BROWSER: 'auto' },
        architecture: lambda.Architecture.X86_64,
        memorySize: props.previewBrowserMemorySize ?? 2048,
        timeout: Duration.seconds(60),
        layers: [this.previewBrowser.layer],
        reservedConcurrentExecutions: props.previewRenderConcurrency,
      },
    );
    this.renderPreviewBrowser.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.hours(1) });
    const renderFunctionName = this.renderPreview.functionName;
    const browserFunctionName = this.renderPreviewBrowser.functionName;
    this.api = this.addFunction('Api', FUNCTION_ENTRIES.api, {
      // The API ships no renderer: a preview miss is answered 202 and drawn by the render function.
      environment: {
        ...environment,
        ...previewSchedulingEnvironment({ renderFunctionName, browserFunctionName, onDemand: 'schedule' }),
      },
      // API Gateway gives up after 30 s; a request does metadata work and presigning only.
      timeout: Duration.seconds(15),
    });
    this.processUpload = this.addFunction('ProcessUpload', FUNCTION_ENTRIES.processUpload, {
      environment: {
        ...environment,
        ...previewSchedulingEnvironment({ renderFunctionName, browserFunctionName, onDemand: 'render' }),
      },
      timeout: Duration.seconds(60),
    });
    this.maintenance = this.addFunction('Maintenance', FUNCTION_ENTRIES.maintenance, {
      timeout: Duration.minutes(5),
    });
    // Both schedule renders, with their own role: the invocation is not tenant data.
    this.grantInvoke(this.renderPreview, [this.api, this.processUpload]);
    this.grantInvoke(this.renderPreviewBrowser, [this.api, this.processUpload]);

    const checksumEntry = props.checksumEntry ?? OPTIONAL_FUNCTION_ENTRIES.verifyChecksum;
    if (props.checksumFunction ?? hasEntry(checksumEntry)) {
      // Reads a whole object (up to 5 TiB by S3's limits, 5 GiB by default): the longest
      // timeout Lambda has, far from any request; asynchronous, so Lambda retries it twice.
      this.verifyChecksum = this.addFunction('VerifyChecksum', checksumEntry, {
        timeout: Duration.minutes(15),
      });
      this.verifyChecksum.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6) });
      // The sweep re-checks a pending upload that arrived while nobody was told: it hands the
      // hash over too, never reads a whole object in its own 5 minutes.
      const callers = [this.api, this.processUpload, this.maintenance];
      for (const fn of callers) fn.addEnvironment('CHECKSUM_FUNCTION_NAME', this.verifyChecksum.functionName);
      this.grantInvoke(this.verifyChecksum, callers);
    }
    if (hasEntry(OPTIONAL_FUNCTION_ENTRIES.malwareScanResult))
      // Reads the first bytes and settles one file per event; quarantine copies take the longest.
      this.malwareScanResult = this.addFunction(
        'MalwareScanResult',
        OPTIONAL_FUNCTION_ENTRIES.malwareScanResult,
        {
          timeout: Duration.seconds(60),
        },
      );
  }

  /** What every function reads, for one that adds its own variables (WebhookEvents). */
  public get sharedEnvironment(): Record<string, string> {
    return { ...this.props.environment };
  }

  /** The functions whose data calls run in a tenant's STS session. */
  public get tenantScoped(): nodejs.NodejsFunction[] {
    return [
      this.api,
      this.processUpload,
      this.renderPreview,
      this.renderPreviewBrowser,
      ...(this.verifyChecksum ? [this.verifyChecksum] : []),
      ...(this.malwareScanResult ? [this.malwareScanResult] : []),
    ];
  }

  /** Every function, by the display name monitoring uses. */
  public get byName(): Record<string, nodejs.NodejsFunction> {
    return {
      Api: this.api,
      ProcessUpload: this.processUpload,
      Maintenance: this.maintenance,
      ...(this.verifyChecksum ? { VerifyChecksum: this.verifyChecksum } : {}),
      ...(this.malwareScanResult ? { MalwareScanResult: this.malwareScanResult } : {}),
    };
  }

  /**
   * One Lambda: Node 22 on arm64, bundled by esbuild, JSON logs in its own log group, its own
   * role. Environment, memory and tracing default to the shared settings.
   */
  public addFunction(id: string, entry: string, options: FunctionOptions = {}): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: this.props.logRetention,
      removalPolicy: this.props.removalPolicy,
    });
    // Our own role: logs scoped to this function's log group instead of the managed
    // AWSLambdaBasicExecutionRole policy, which allows writing to any log group.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Stowage ${id} function`,
    });
    logGroup.grantWrite(role);
    const tracing = options.tracing ?? this.props.tracing;
    const fn = new nodejs.NodejsFunction(this, id, {
      environment: this.props.environment,
      memorySize: this.props.memorySize,
      ...options,
      tracing,
      description: `Stowage ${id} (${entry})`,
      ...codeOf(entry),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: options.architecture ?? lambda.Architecture.ARM_64,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
    });
    acknowledge(
      fn,
      'AwsSolutions-L1',
      'Node 22 on purpose: the code and its pinned dependencies are tested on Node 20 and 22, not 24.',
    );
    if (tracing === lambda.Tracing.ACTIVE) {
      acknowledge(
        role,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray PutTraceSegments has no resource-level ARN.',
      );
    }
    return fn;
  }

  private grantInvoke(target: lambda.IFunction, callers: lambda.IFunction[]): void {
    for (const fn of callers)
      iam.Grant.addToPrincipal({
        grantee: fn,
        actions: ['lambda:InvokeFunction'],
        resourceArns: [target.functionArn],
      });
  }
}
