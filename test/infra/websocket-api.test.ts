/**
 * The realtime WebSocket API (infra/lib/websocket-api.ts): routes, stage, function, the
 * management grant of both functions, the HTTP function's endpoint variable, and the output.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { KEEPALIVE_ROUTE, parseClientFrame } from 'sealpost/wire/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#functions/deployment.ts';
import { FIXTURE_ENTRY, list, logicalId, roleStatements, type Synth, synth } from './synth.ts';

let s: Synth;
beforeAll(() => {
  s = synth({ apiEntry: FIXTURE_ENTRY });
});
afterAll(() => {
  s?.dispose();
});

const apiId = () => logicalId(s.json, 'AWS::ApiGatewayV2::Api', 'RealtimeApi');

/** The Lambda function whose description contains `text`. */
function functionProps(text: string): Record<string, unknown> {
  const fns = Object.values(s.json.Resources).filter(
    (r) =>
      r.Type === 'AWS::Lambda::Function' && String(r.Properties?.['Description']).includes(text),
  );
  expect(fns).toHaveLength(1);
  return fns[0]!.Properties!;
}

describe('SealpostWebSocketApi', () => {
  it('is a WebSocket API with $connect, $disconnect and $default to one function', () => {
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.type',
    });
    const routes = Object.values(s.json.Resources).filter(
      (r) => r.Type === 'AWS::ApiGatewayV2::Route',
    );
    const keys = routes
      .filter((r) => JSON.stringify(r.Properties?.['ApiId']).includes(apiId()))
      .map((r) => r.Properties?.['RouteKey']);
    expect(keys.sort()).toEqual(['$connect', '$default', '$disconnect', KEEPALIVE_ROUTE]);
    const integrations = s.template.findResources('AWS::ApiGatewayV2::Integration', {
      Properties: { ApiId: { Ref: apiId() }, IntegrationType: 'AWS_PROXY' },
    });
    expect(Object.keys(integrations)).toHaveLength(3);
  });

  it('routes keepalive frames to a mock integration: no function call, no reply', () => {
    const keepalive = Object.values(
      s.template.findResources('AWS::ApiGatewayV2::Route', {
        Properties: { ApiId: { Ref: apiId() }, RouteKey: KEEPALIVE_ROUTE },
      }),
    );
    expect(keepalive).toHaveLength(1);
    const target = JSON.stringify(keepalive[0]!.Properties?.['Target']);
    const mocks = s.template.findResources('AWS::ApiGatewayV2::Integration', {
      Properties: { ApiId: { Ref: apiId() }, IntegrationType: 'MOCK' },
    });
    expect(Object.keys(mocks)).toHaveLength(1);
    const [mockId, mock] = Object.entries(mocks)[0]!;
    expect(target).toContain(mockId);
    expect(mock.Properties).toMatchObject({
      RequestTemplates: { '\\$default': '{"statusCode":200}' },
      TemplateSelectionExpression: '\\$default',
    });
    // No route response: API Gateway sends nothing back for a keepalive.
    expect(keepalive[0]!.Properties?.['RouteResponseSelectionExpression']).toBeUndefined();
    expect(s.template.findResources('AWS::ApiGatewayV2::RouteResponse')).toEqual({});
    // The route key is the `type` of the wire's keepalive frame, which the route selection reads.
    expect(parseClientFrame(JSON.stringify({ type: KEEPALIVE_ROUTE }))).toEqual({
      ok: true,
      frame: { type: 'keepalive' },
    });
  });

  it('deploys stage v1 with throttling and JSON access logs without IPs', () => {
    const stage = Object.values(
      s.template.findResources('AWS::ApiGatewayV2::Stage', {
        Properties: { ApiId: { Ref: apiId() } },
      }),
    )[0]!.Properties as Record<string, Record<string, unknown>>;
    expect(stage['StageName']).toBe('v1');
    expect(stage['AutoDeploy']).toBe(true);
    expect(stage['DefaultRouteSettings']).toMatchObject({
      ThrottlingRateLimit: 100,
      ThrottlingBurstLimit: 200,
    });
    const format = String(stage['AccessLogSettings']?.['Format']);
    expect(format).toContain('$context.routeKey');
    expect(format).not.toContain('sourceIp');
    expect(format).not.toContain('connectionId');
  });

  it('runs the realtime function with the deployment contract environment', () => {
    const fn = functionProps('realtime delivery');
    const vars = (fn['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(vars)).toEqual(expect.arrayContaining([ENV.table, ENV.bucket]));
    // It finds its management endpoint in each event.
    expect(vars[ENV.websocketEndpoint]).toBe('');
    expect(fn['Timeout']).toBe(25);
  });

  it('gives the HTTP function the management endpoint of stage v1', () => {
    const vars = (
      functionProps('mailbox API')['Environment'] as { Variables: Record<string, unknown> }
    ).Variables;
    expect(JSON.stringify(vars[ENV.websocketEndpoint])).toContain(apiId());
    expect(JSON.stringify(vars[ENV.websocketEndpoint])).toContain('/v1');
  });

  it.each([['ServiceHandlerRole'], ['RealtimeHandlerRole']])(
    'lets %s manage connections of stage v1 only',
    (role) => {
      const manage = roleStatements(s.json, role).filter((st) =>
        list(st.Action).includes('execute-api:ManageConnections'),
      );
      expect(manage).toHaveLength(1);
      expect(list(manage[0]!.Action)).toEqual(['execute-api:ManageConnections']);
      const resource = JSON.stringify(manage[0]!.Resource);
      expect(resource).toContain(apiId());
      expect(resource).toContain('/v1/*/@connections/*');
    },
  );

  it('outputs the WebSocket URL', () => {
    s.template.hasOutput('*', {
      Description: Match.stringLikeRegexp('realtime WebSocket'),
      Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
    const outputs = Object.keys(s.json.Outputs ?? {});
    expect(outputs.some((o) => o.includes('WebSocketUrl'))).toBe(true);
  });
});
