import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_CORS } from '../../functions/api/cors-policy.js';
import { deployedRoutes, SHARED_LINK_ROUTE_KEY } from './api-routes.js';
import { acknowledge } from './nag-acknowledgements.js';

export interface StowageHttpApiProps {
  readonly handler: lambda.IFunction;
  readonly jwtIssuer: string;
  readonly jwtAudience: string[];
  readonly allowedOrigins: string[];
  /** @default { rateLimit: 100, burstLimit: 200 } */
  readonly throttle?: apigwv2.ThrottleSettings;
  /** @default { rateLimit: 20, burstLimit: 40 } */
  readonly sharedLinkThrottle?: apigwv2.ThrottleSettings;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The HTTP API: every route of functions/api/routes.ts behind a JWT authorizer (all but health,
 * the OpenAPI document and share links), one Lambda integration, throttling and JSON access logs.
 */
export class StowageHttpApi extends Construct {
  public readonly httpApi: apigwv2.HttpApi;
  public readonly stage: apigwv2.HttpStage;

  constructor(scope: Construct, id: string, props: StowageHttpApiProps) {
    super(scope, id);
    const authorizer = new HttpJwtAuthorizer('JwtAuthorizer', props.jwtIssuer, {
      jwtAudience: props.jwtAudience,
      identitySource: ['$request.header.Authorization'],
    });
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Stowage file storage API (API.md, version 1)',
      createDefaultStage: false,
      // Secure by default: a route added later without an explicit authorizer needs a token.
      defaultAuthorizer: authorizer,
      corsPreflight: {
        allowOrigins: props.allowedOrigins,
        allowMethods: API_CORS.allowMethods.map((method) => apigwv2.CorsHttpMethod[method]),
        allowHeaders: [...API_CORS.allowHeaders],
        exposeHeaders: [...API_CORS.exposeHeaders],
        maxAge: Duration.seconds(API_CORS.maxAgeSeconds),
      },
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 100, burstLimit: 200 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            time: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    const sharedThrottle = props.sharedLinkThrottle ?? { rateLimit: 20, burstLimit: 40 };
    // RouteSettings is a JSON map that CDK passes through as written: CloudFormation's casing.
    (this.stage.node.defaultChild as apigwv2.CfnStage).routeSettings = {
      [SHARED_LINK_ROUTE_KEY]: {
        ThrottlingRateLimit: sharedThrottle.rateLimit,
        ThrottlingBurstLimit: sharedThrottle.burstLimit,
      },
    };
    // One integration and one invoke permission for all routes: a permission per route would
    // outgrow the function's 20 KB resource policy.
    const integration = new HttpLambdaIntegration('ApiIntegration', props.handler, {
      scopePermissionToRoute: false,
    });
    const noAuthorizer = new apigwv2.HttpNoneAuthorizer();
    for (const route of deployedRoutes()) {
      const [created] = this.httpApi.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration,
        ...(route.authorized ? {} : { authorizer: noAuthorizer }),
      });
      // CloudFormation refuses route settings for a route key that does not exist yet.
      if (created && `${route.method} ${route.path}` === SHARED_LINK_ROUTE_KEY && route.kind === 'handler')
        this.stage.node.addDependency(created);
      if (!route.authorized && created)
        acknowledge(
          created,
          'AwsSolutions-APIG4',
          `${route.method} ${route.path} is public by API.md (health, the OpenAPI document, share links by unguessable token, throttled).`,
        );
    }
  }
}
